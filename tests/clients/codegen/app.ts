// The generated TypedDocumentNode with graphql-request: variables and result are typed
// (tsc --strict checks this file), DateTime and Decimal as the strings the gateway sends.
import { GraphQLClient } from "graphql-request";
import { CodegenTasksDocument, type CodegenTasksQuery } from "./__generated__/graphql.js";

const client = new GraphQLClient(process.env.GATEWAY_URL!, {
  headers: { "X-API-Key": process.env.GATEWAY_API_KEY! },
});
const data: CodegenTasksQuery = await client.request(CodegenTasksDocument, { first: 2 });
const due: string | null | undefined = data.tasks?.nodes[0]?.dueDate;
const subTotal: string | undefined = data.invoices?.nodes[0]?.subTotal;
process.stdout.write(JSON.stringify({ due, subTotal, data }) + "\n");
