// graphql-ws (graphql-transport-ws) as shipped: follow a task over WebSocket, the key
// in connection_init, change it once the test says the gateway holds the subscription,
// print the event; then the same client without a key, refused.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { NODE_CHANGED, announce, apiKey, newTask, nextLine, report, toggle, url } from "./common.mjs";

const wsUrl = url.replace(/^http/, "ws");
const taskId = await newTask();
const client = createClient({
  url: wsUrl,
  webSocketImpl: WebSocket,
  connectionParams: { "X-API-Key": apiKey },
  retryAttempts: 0,
});
const events = [];
let stop;
const received = new Promise((resolve, reject) => {
  stop = client.subscribe(
    { query: NODE_CHANGED, variables: { id: taskId }, operationName: "TaskChanged" },
    { next: (event) => resolve(events.push(event)), error: reject, complete: () => {} },
  );
});
announce({ subscribed: taskId });
await nextLine();
await toggle(taskId);
await received;
stop();
await client.dispose();

const keyless = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
const refused = await new Promise((resolve) => {
  keyless.subscribe(
    { query: NODE_CHANGED, variables: { id: taskId } },
    {
      next: () => {},
      error: (error) => resolve({ code: error.code ?? null, reason: error.reason ?? String(error) }),
      complete: () => resolve(null),
    },
  );
});
await keyless.dispose();
report({ taskId, events, refused });
