"""GraphiQL, served by the gateway itself from assets bundled at install time.

``explorer/`` (package.json and its lock file) pins GraphiQL, React and Monaco;
``make install`` bundles them with esbuild into ``gateway/http/explorer_assets/``
(git-ignored), served at ``/graphiql/``. The page loads nothing from anywhere
else, which its Content-Security-Policy enforces. When the assets were never
built (e.g. a bare ``pip install``), the page says how to build them.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).parent / "explorer_assets"
ASSETS_PATH = "/graphiql"

# Only the gateway's own origin. Monaco sets inline styles, and its fonts and
# icons come in as data: URLs; its workers are files beside the page's script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>task-gateway · GraphQL explorer</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{assets}/main.css">
</head>
<body>
  <div id="graphiql" data-endpoint="{endpoint}">Loading the task-gateway explorer…</div>
  <script type="module" src="{assets}/main.js"></script>
</body>
</html>
"""

NOT_BUILT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>task-gateway · GraphiQL is not built</title></head>
<body style="font-family: sans-serif; max-width: 42em; margin: 3em auto; line-height: 1.5">
  <h1>GraphiQL is not built</h1>
  <p>The gateway serves GraphiQL from files bundled at install time, and they are
  missing from <code>{assets_dir}</code>.</p>
  <p>Build them from the repository with <code>make install</code> (or <code>make demo</code>),
  which runs <code>cd explorer &amp;&amp; npm ci &amp;&amp; npm run build</code>
  (node 18 or later), then reload this page.</p>
  <p>The GraphQL endpoint itself works without them: POST a query to <code>{endpoint}</code>.</p>
</body>
</html>
"""


def assets_built() -> bool:
    return (ASSETS_DIR / "main.js").is_file() and (ASSETS_DIR / "main.css").is_file()


def explorer_page(endpoint: str) -> HTMLResponse:
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
    endpoint = html.escape(endpoint, quote=True)
    if not assets_built():
        body = NOT_BUILT.format(assets_dir=html.escape(str(ASSETS_DIR)), endpoint=endpoint)
        return HTMLResponse(body, status_code=503, headers=headers)
    return HTMLResponse(PAGE.format(assets=ASSETS_PATH, endpoint=endpoint), headers=headers)


def explorer_routes() -> list[BaseRoute]:
    # check_dir=False: the app starts without the assets, and the page explains.
    return [Mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR, check_dir=False))]
