// The `upstreamCalls` extension of the last operation GraphiQL ran, for the waterfall
// panel. GraphiQL owns the response text; this store only keeps what the fetcher saw.
let current = null;
const listeners = new Set();

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function snapshot() {
  return current;
}

export function record(operationName, report, elapsedMs) {
  current = { operationName, report, elapsedMs, at: Date.now() };
  for (const listener of listeners) listener();
}
