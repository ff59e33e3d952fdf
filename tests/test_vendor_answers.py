"""A vendor's answer read by the direct exchange (gateway.upstream.transport) is the
response httpx's own client gives for the same bytes: plain, chunked and gzip-coded
bodies, over a real loopback socket."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.upstream.client import vendor_limits
from gateway.upstream.transport import VendorTransport

BODY = b'{"tasks": [1, 2, 3], "name": "caf\xc3\xa9"}'
ZIPPED = gzip.compress(BODY)
ANSWERS = {
    "/plain": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLink: <https://v/x?page=2>; "
    b'rel="next"\r\nContent-Length: ' + str(len(BODY)).encode() + b"\r\n\r\n" + BODY,
    "/chunked": b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
    + f"{len(BODY[:10]):x}\r\n".encode()
    + BODY[:10]
    + f"\r\n{len(BODY[10:]):x}\r\n".encode()
    + BODY[10:]
    + b"\r\n0\r\n\r\n",
    "/gzip": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
    b"Content-Length: " + str(len(ZIPPED)).encode() + b"\r\n\r\n" + ZIPPED,
    "/empty": b"HTTP/1.1 204 No Content\r\n\r\n",
}


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ")[1].decode()
            writer.write(ANSWERS[path])
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def vendor_url() -> AsyncIterator[str]:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


@pytest.mark.parametrize("path", sorted(ANSWERS))
async def test_the_direct_exchange_reads_an_answer_as_httpx_does(
    vendor_url: str, path: str
) -> None:
    transport = VendorTransport(limits=vendor_limits(2))
    async with httpx.AsyncClient(transport=transport, base_url=vendor_url) as client:
        through_client = await client.get(path)
        direct = await transport.exchange(client.build_request("GET", path))
    for response in (through_client, direct):
        assert response.is_closed and response.is_stream_consumed
    assert direct.status_code == through_client.status_code
    assert direct.reason_phrase == through_client.reason_phrase
    assert direct.http_version == through_client.http_version
    assert direct.headers.multi_items() == through_client.headers.multi_items()
    assert direct.content == through_client.content
    assert direct.text == through_client.text
    assert direct.links == through_client.links
    assert direct.num_bytes_downloaded == through_client.num_bytes_downloaded
    assert list(direct.iter_bytes()) == list(through_client.iter_bytes())
    if path != "/empty":
        assert direct.json() == through_client.json()
