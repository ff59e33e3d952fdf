import './workers.js';
import 'graphiql/style.css';
import './waterfall.css';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createFetcher } from './fetcher.js';
import { waterfallPlugin } from './waterfall.jsx';

const root = document.getElementById('graphiql');
const fetcher = createFetcher(root.dataset.endpoint || window.location.pathname);

const DEFAULT_QUERY = `# Every vendor's open work, by title: every vendor is asked at once.
# Press run (Ctrl-Enter); the "Upstream calls" panel draws the calls the gateway
# made for it. (Sorted by due date, vendors without due dates are asked only
# when their items can reach the page.)
query OpenWork {
  workItems(first: 5, filter: {completed: false}, sort: {field: TITLE}) {
    missingVendors
    nodes { __typename title vendor dueAt }
  }
}
`;

createRoot(root).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={DEFAULT_QUERY}
    plugins={[waterfallPlugin]}
    visiblePlugin={waterfallPlugin}
  />,
);
