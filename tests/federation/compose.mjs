// Composes subgraph SDL files into a supergraph with Apollo's composition.
// Usage: node compose.mjs name=path.graphql [name=path.graphql ...]
// Prints {"supergraphSdl": "..."} or {"errors": ["..."]} as JSON on stdout.
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const services = process.argv.slice(2).map((arg) => {
  const [name, path] = arg.split("=");
  return { name, url: `http://${name}.invalid/graphql`, typeDefs: parse(readFileSync(path, "utf8")) };
});
const result = composeServices(services);
if (result.errors) {
  console.log(JSON.stringify({ errors: result.errors.map((e) => e.message) }));
} else {
  console.log(JSON.stringify({ supergraphSdl: result.supergraphSdl }));
}
