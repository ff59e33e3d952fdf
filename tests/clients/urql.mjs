// urql as shipped: queries go by GET (preferGetMethod "within-url-limit") with no
// content type. Its X-API-Key header is what shows it was not sent cross-site by a
// page (docs/clients/urql.md).
import { Client, cacheExchange, fetchExchange, gql } from "@urql/core";
import { apiKey, recordingFetch, report, url } from "./common.mjs";

const client = new Client({
  url,
  exchanges: [cacheExchange, fetchExchange],
  fetch: recordingFetch,
  fetchOptions: () => ({
    headers: { "X-API-Key": apiKey },
  }),
});

const TASKS = gql`
  query UrqlTasks($first: Int!) {
    tasks(first: $first) {
      nodes { id name dueDate }
    }
  }
`;
const result = await client.query(TASKS, { first: 2 }).toPromise();
report({ data: result.data, error: result.error?.message ?? null });
