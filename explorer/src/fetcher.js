import { record } from './calls.js';

// GraphiQL's own introspection: it makes no upstream call and must not blank the panel.
const INTROSPECTION = 'IntrospectionQuery';

// A plain POST to the page's own endpoint, asking for the upstream accounting so the
// waterfall can be drawn. Answers in either GraphQL-over-HTTP media type are JSON.
export function createFetcher(url) {
  return async (params, options) => {
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
    return body;
  };
}
