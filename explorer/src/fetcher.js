import { parse } from 'graphql';
import { createClient } from 'graphql-ws';
import { record } from './calls.js';

// GraphiQL's own introspection: it makes no upstream call and must not blank the drawer.
const INTROSPECTION = 'IntrospectionQuery';

// The accounting is drawn in the drawer; the result pane shows the answer without it.
function withoutAccounting(body) {
  if (!body?.extensions || !('upstreamCalls' in body.extensions)) return body;
  const { upstreamCalls: _, ...extensions } = body.extensions;
  const { extensions: __, ...rest } = body;
  return Object.keys(extensions).length > 0 ? { ...rest, extensions } : rest;
}

// GraphiQL reads the operation's name from the editor 100 ms after its text changes,
// and a tab switch changes the text: run at once, and the last tab's name would be
// sent with this tab's document, or none at all if it has not read one yet. A name the
// document does not hold, or none, is replaced by the document's only operation (the
// same operation runs, and the drawer can name it); with several, the server decides.
function operationOf(params) {
  let names;
  try {
    names = parse(params.query).definitions
      .filter((definition) => definition.kind === 'OperationDefinition')
      .map((definition) => definition.name?.value ?? null);
  } catch {
    return params;
  }
  if (names.includes(params.operationName)) return params;
  return names.length === 1 && names[0] ? { ...params, operationName: names[0] } : params;
}

function isSubscription(params) {
  try {
    const operations = parse(params.query).definitions
      .filter((definition) => definition.kind === 'OperationDefinition');
    const chosen = operations.find((operation) => operation.name?.value === params.operationName)
      ?? (operations.length === 1 ? operations[0] : null);
    return chosen?.operation === 'subscription';
  } catch {
    return false;
  }
}

function socketUrl(url) {
  const address = new URL(url, window.location.href);
  address.protocol = address.protocol === 'https:' ? 'wss:' : 'ws:';
  return address.href;
}

function closedError(event) {
  if (event instanceof Error) return event;
  const reason = event?.reason ? `: ${event.reason}` : '';
  return new Error(`The gateway closed the subscription's connection (${event?.code ?? 'no code'}${reason}).`);
}

// A subscription goes over GraphQL over WebSocket (graphql-transport-ws), on a
// connection of its own, with the headers GraphiQL sends over HTTP: the credential
// rides in connection_init as the header carries it. Each event replaces the result
// pane's answer; stopping the run (GraphiQL returns the iterator) ends the connection.
async function* subscribe(url, params, headers) {
  const client = createClient({
    url: socketUrl(url),
    connectionParams: headers,
    retryAttempts: 0,
  });
  try {
    for await (const result of client.iterate(params)) yield result;
  } catch (event) {
    throw closedError(event);
  } finally {
    await client.dispose();
  }
}

// A plain POST to the page's own endpoint, asking for the upstream accounting so the
// drawer can draw it. Answers in either GraphQL-over-HTTP media type are JSON.
async function post(url, params, options) {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      Accept: 'application/graphql-response+json, application/json;q=0.9',
      'Content-Type': 'application/json',
      'X-Upstream-Accounting': '1',
      ...(options?.headers ?? {}),
    },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`The gateway answered HTTP ${response.status} with a body that is not JSON.`);
  }
  if (params.operationName !== INTROSPECTION) {
    record(params.operationName ?? null, body?.extensions?.upstreamCalls ?? null,
      performance.now() - started);
  }
  return withoutAccounting(body);
}

export function createFetcher(url) {
  return (asked, options) => {
    const params = operationOf(asked);
    if (isSubscription(params)) return subscribe(url, params, options?.headers ?? {});
    return post(url, params, options);
  };
}
