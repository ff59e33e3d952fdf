import './workers.js';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './page.css';
import './drawer.css';
import { createRoot } from 'react-dom/client';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createFetcher } from './fetcher.js';
import { UpstreamDrawer } from './drawer.jsx';
import { fetchStarterIds, starterTabs } from './starters.js';

const root = document.getElementById('graphiql');
const endpoint = root.dataset.endpoint || window.location.pathname;
const fetcher = createFetcher(endpoint);
// GraphiQL passes the given plugins on as they are: History is one since GraphiQL 5.
const plugins = [HISTORY_PLUGIN, explorerPlugin({ showAttribution: false })];

// The starter tabs' ids are asked for first, so the tabs open filled; GraphiQL builds
// its tabs once, from these or from the tabs a person left in this browser.
const ids = await fetchStarterIds(endpoint);

createRoot(root).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={plugins}
    defaultTabs={starterTabs(ids)}
    defaultEditorToolsVisibility="variables"
  >
    {/* GraphiQL places its Logo child by type, so it is written here, not wrapped. */}
    <GraphiQL.Logo>
      <span className="tg-logo" data-testid="product-name">
        task-gateway <small>explorer</small>
      </span>
    </GraphiQL.Logo>
    <UpstreamDrawer />
  </GraphiQL>,
);
