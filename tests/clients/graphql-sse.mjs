// graphql-sse (distinct connections mode) as shipped: follow a task over Server-Sent
// Events, change it once the test says the gateway holds the subscription, print the
// event; then the same client without a key, refused.
import { createClient } from "graphql-sse";
import { NODE_CHANGED, announce, apiKey, newTask, nextLine, report, toggle, url } from "./common.mjs";

const taskId = await newTask();
const client = createClient({ url, headers: { "X-API-Key": apiKey }, retryAttempts: 0 });
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
client.dispose();

const keyless = createClient({ url, retryAttempts: 0 });
const refused = await new Promise((resolve) => {
  keyless.subscribe(
    { query: NODE_CHANGED, variables: { id: taskId } },
    {
      next: () => {},
      error: (error) => resolve({ status: error.response?.status ?? null, message: error.message }),
      complete: () => resolve(null),
    },
  );
});
keyless.dispose();
report({ taskId, events, refused });
