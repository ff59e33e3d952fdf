// graphql-request as shipped (POST), then in its GET mode.
import { GraphQLClient, gql } from "graphql-request";
import { apiKey, recordingFetch, report, url } from "./common.mjs";

const TASK_COUNT = gql`
  query RequestTasks($first: Int!) {
    tasks(first: $first) { nodes { invoicedId } }
  }
`;
const headers = { "X-API-Key": apiKey };
const post = new GraphQLClient(url, { headers, fetch: recordingFetch });
const byPost = await post.request(TASK_COUNT, { first: 2 });
// GET: no content type; the X-API-Key header is what passes the CSRF rule.
const get = new GraphQLClient(url, {
  method: "GET",
  headers,
  fetch: recordingFetch,
});
const byGet = await get.request(TASK_COUNT, { first: 3 });
let refused = null;
try {
  await new GraphQLClient(url, { fetch: recordingFetch }).request(TASK_COUNT, { first: 1 });
} catch (error) {
  refused = error.response?.errors?.[0]?.extensions?.code ?? String(error);
}
report({ byPost, byGet, refused });
