// Relay as shipped, with persisted queries: relay-compiler (relay.config.json) writes
// the artifacts with an `id` and no text, and the manifest relay/persisted_queries.json
// the gateway loads (GATEWAY_PERSISTED_DOCUMENTS); the network layer sends `doc_id`.
// The list is a @connection on a @refetchable fragment: its next page is fetched with
// the generated pagination query and merged into the same connection in the store.
import relay from "relay-runtime";
import TaskListQuery from "./relay/__generated__/TaskListQuery.graphql.js";
import TaskListFragment from "./relay/__generated__/TaskList_query.graphql.js";
import TaskListPaginationQuery from "./relay/__generated__/TaskListPaginationQuery.graphql.js";
import { apiKey, recordingFetch, report, url } from "./common.mjs";

const { Environment, Network, RecordSource, Store, fetchQuery, getSelector } = relay;

async function fetchPersisted(params, variables) {
  const response = await recordingFetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
    body: JSON.stringify({ doc_id: params.id, variables }),
  });
  return response.json();
}

const environment = new Environment({
  network: Network.create(fetchPersisted),
  store: new Store(new RecordSource()),
});

const root = await fetchQuery(environment, TaskListQuery, { count: 2 }).toPromise();
const selector = getSelector(TaskListFragment, root);
const firstPage = environment.lookup(selector).data.tasks;
const cursor = firstPage.pageInfo.endCursor;
await fetchQuery(environment, TaskListPaginationQuery, { count: 2, cursor }).toPromise();
const merged = environment.lookup(selector).data.tasks;
const names = (connection) => connection.edges.map((edge) => edge.node.name);
report({
  textSent: TaskListQuery.params.text,
  firstPage: names(firstPage),
  merged: names(merged),
  hasNextPage: merged.pageInfo.hasNextPage,
});
