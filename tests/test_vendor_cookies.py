"""A vendor's cookies stay with the answer that set them.

The gateway calls each vendor with its own credentials on behalf of every client: a
cookie one answer set (a session, a load balancer's pin) must not ride on the calls
made for the next client. Through the production client and transport to a real
server that sets a cookie on every answer and reports the cookies it was sent.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.upstream.client import Upstream, create_client
from gateway.vendors.invoiced import INVOICED
from tests.servers import serve_in_thread


async def cookie_setter(request: Request) -> Response:
    response = JSONResponse({"cookie": request.headers.get("cookie")})
    response.set_cookie("session", "for-whoever-asked-first")
    return response


async def test_a_cookie_a_vendor_sets_is_not_sent_back() -> None:
    app = Starlette(routes=[Route("/tasks", cookie_setter)])
    with serve_in_thread(app) as url:
        upstream = Upstream(INVOICED, create_client(url, timeout=5.0))
        try:
            first = await upstream.send("GET", "tasks")
            second = await upstream.send("GET", "tasks")
        finally:
            await upstream.aclose()
    assert "session=" in first.headers["set-cookie"]
    assert second.json() == {"cookie": None}
