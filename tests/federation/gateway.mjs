// Serves subgraphs behind Apollo Gateway (IntrospectAndCompose) and runs one operation.
// Usage: node gateway.mjs '<json {"subgraphs": [{"name", "url"}], "query", "variables"}>'
// Prints the operation's JSON result on stdout.
import { ApolloGateway, IntrospectAndCompose } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";

const { subgraphs, query, variables } = JSON.parse(process.argv[2]);
const gateway = new ApolloGateway({ supergraphSdl: new IntrospectAndCompose({ subgraphs }) });
const server = new ApolloServer({ gateway });
await server.start();
try {
  const response = await server.executeOperation({ query, variables });
  const result = response.body.kind === "single" ? response.body.singleResult : { errors: ["incremental"] };
  console.log(JSON.stringify(result));
} finally {
  await server.stop();
}
