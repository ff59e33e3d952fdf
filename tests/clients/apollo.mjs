// Apollo Client 4 with automatic persisted queries: the first request sends the hash
// alone, the gateway answers PERSISTED_QUERY_NOT_FOUND, the link sends hash and text
// once; from then on (any client, the same gateway process) the hash alone runs it.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { apiKey, recordingFetch, report, sent, url } from "./common.mjs";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function apolloClient() {
  const persisted = new PersistedQueryLink({ sha256 });
  const http = new HttpLink({ uri: url, headers: { "X-API-Key": apiKey }, fetch: recordingFetch });
  return new ApolloClient({ link: persisted.concat(http), cache: new InMemoryCache() });
}

const QUERY = gql`
  query ApolloTasks($first: Int!) {
    tasks(first: $first) { nodes { id name } }
  }
`;
const first = await apolloClient().query({ query: QUERY, variables: { first: 2 } });
const registered = sent.length;
const second = await apolloClient().query({ query: QUERY, variables: { first: 2 } });
report({ first: first.data, second: second.data, registered });
