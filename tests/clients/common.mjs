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
