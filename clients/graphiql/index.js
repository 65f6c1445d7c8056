// GraphiQL as bookgraph serves it at GET /graphql: queries over HTTP, subscriptions over
// graphql-transport-ws on the same URL, and the explorer plugin. Bundled by build.mjs.
import './workers.js'; // first: Monaco reads MonacoEnvironment when it creates an editor
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './page.css';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

const url = new URL(window.location.pathname, window.location.origin);
const subscriptionUrl = new URL(url);
subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

// The editor's headers go with every request, and into `connection_init` for subscriptions, where
// the server reads `Authorization` (a browser cannot set headers on a WebSocket). JSONC: the hint
// is a comment, so nothing invalid is sent before a token is pasted.
const HEADERS_HINT = `{
  // Sign in: uncomment the line below and paste a token.
  // "Authorization": "Bearer …"
}`;

const fetcher = createGraphiQLFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, {
    fetcher,
    plugins: [explorerPlugin()],
    defaultHeaders: HEADERS_HINT,
    defaultEditorToolsVisibility: 'headers',
    isHeadersEditorEnabled: true,
    // Tokens stay out of localStorage unless the user turns this on in GraphiQL's settings.
    shouldPersistHeaders: false,
  }),
);
