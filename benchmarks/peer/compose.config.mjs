// Mesh Compose: one subgraph, the Invoiced sandbox's task list, described by
// invoiced-tasks.openapi.json. The address and key come from the environment that
// `task-gateway sandbox --print-env` prints, so both gateways read the same upstream.
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

const { INVOICED_API_URL: endpoint, INVOICED_API_KEY: key } = process.env;
if (!endpoint || !key) {
  throw new Error('INVOICED_API_URL and INVOICED_API_KEY must be set (task-gateway sandbox --print-env)');
}

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('Invoiced', {
        source: './invoiced-tasks.openapi.json',
        endpoint,
        operationHeaders: { Authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
      }),
    },
  ],
});
