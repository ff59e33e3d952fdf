// What every client script shares: where the gateway is, the API key, and a fetch that
// records each request's method and body shape, so the test sees what went on the wire.
export const url = process.env.GATEWAY_URL;
export const apiKey = process.env.GATEWAY_API_KEY;
export const sent = [];

export async function recordingFetch(input, init = {}) {
  const method = init.method ?? "GET";
  let body = null;
  if (typeof init.body === "string") {
    const parsed = JSON.parse(init.body);
    body = Object.keys(parsed).sort();
    if (parsed.extensions?.persistedQuery) body.push("persistedQuery");
  }
  sent.push({ method, body, url: String(input).replace(url, "") });
  return fetch(input, init);
}

export function report(result) {
  process.stdout.write(JSON.stringify({ ...result, sent }) + "\n");
}

// For the subscription scripts: a GraphQL POST with the key, and the next line the
// test writes on stdin (its word that the gateway holds the subscription).
export async function graphql(query, variables) {
  const answer = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
    body: JSON.stringify({ query, variables }),
  });
  const body = await answer.json();
  if (!body.data) throw new Error(JSON.stringify(body));
  return body.data;
}

const stdinLines = (async function* () {
  let buffered = "";
  for await (const chunk of process.stdin) {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
    }
  }
})();

export async function nextLine() {
  return (await stdinLines.next()).value;
}

export function announce(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

export const NODE_CHANGED = `
  subscription TaskChanged($id: ID!) { nodeChanged(id: $id) { vendor type id kind } }
`;

// A new task to follow, and the write that changes it once the test says go.
export async function newTask() {
  const data = await graphql(
    `mutation Create($input: CreateTaskInput!) { createTask(input: $input) { task { id } } }`,
    { input: { name: "Call them", action: "PHONE", dueDate: "2026-12-01T09:00:00+00:00" } },
  );
  return data.createTask.task.id;
}

export async function toggle(id) {
  await graphql(
    `mutation Toggle($id: ID!) { toggleTaskCompletion(id: $id) { task { complete } } }`,
    { id },
  );
}
