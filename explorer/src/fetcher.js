import { parse } from 'graphql';
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

// A plain POST to the page's own endpoint, asking for the upstream accounting so the
// drawer can draw it. Answers in either GraphQL-over-HTTP media type are JSON.
export function createFetcher(url) {
  return async (asked, options) => {
    const params = operationOf(asked);
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
  };
}
