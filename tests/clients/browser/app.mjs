// What a page does: plain fetch with an API key, and urql with its defaults (queries by
// GET, no content type). The test calls these through window.gatewayApp.
import { Client, cacheExchange, fetchExchange, gql } from "@urql/core";

const params = new URLSearchParams(location.search);
const gateway = params.get("gateway");
const key = params.get("key");
const QUERY = "query PageTasks { tasks(first: 2) { nodes { id name } } }";

async function withFetch() {
  const response = await fetch(gateway, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": key },
    body: JSON.stringify({ query: QUERY }),
  });
  return {
    status: response.status,
    requestId: response.headers.get("X-Request-Id"),
    body: await response.json(),
  };
}

async function withUrql() {
  const client = new Client({
    url: gateway,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: { headers: { "X-API-Key": key } },
  });
  const result = await client.query(gql(QUERY), {}).toPromise();
  return { data: result.data ?? null, error: result.error?.message ?? null };
}

window.gatewayApp = { withFetch, withUrql };
document.getElementById("status").textContent = "ready";
