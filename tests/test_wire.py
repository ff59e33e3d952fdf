"""The vendor transport's own connection pool (gateway.upstream.wire and transport)
against a loopback server that writes exact bytes: how answers are framed and read,
when a connection carries the next call, and how failures and cancellations end.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.upstream.client import create_client, vendor_limits
from gateway.upstream.transport import AnswerTooLarge, VendorTransport

# What the server does with one request on a connection: write the answer's pieces
# (each flushed on its own), then go on reading or close.
Answer = Callable[[asyncio.StreamWriter], Awaitable[bool]]


def pieces(*parts: bytes, close: bool = False) -> Answer:
    async def write(writer: asyncio.StreamWriter) -> bool:
        for part in parts:
            writer.write(part)
            await writer.drain()
        return not close

    return write


@dataclass
class Vendor:
    answers: list[Answer]
    url: str = ""
    # Per request: the connection it came on (numbered from 1), and its head.
    requests: list[tuple[int, bytes]] = field(default_factory=list)
    connections: int = 0
    # Set when a connection's client side closed it.
    closed: list[int] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append((connection, head))
                self.arrived.set()
                if not await self.answers.pop(0)(writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            self.closed.append(connection)
        finally:
            writer.close()


@pytest.fixture
async def vendor() -> AsyncIterator[Vendor]:
    served = Vendor([])
    server = await asyncio.start_server(served.handle, "127.0.0.1", 0)
    served.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield served


def client_of(
    url: str, connections: int = 2, max_answer_bytes: int = 1 << 20, **timeouts: float
) -> httpx.AsyncClient:
    transport = VendorTransport(
        limits=vendor_limits(connections), max_answer_bytes=max_answer_bytes
    )
    timeout = httpx.Timeout(10.0, **timeouts)
    return httpx.AsyncClient(transport=transport, base_url=url, timeout=timeout)


async def direct(client: httpx.AsyncClient, path: str = "/") -> httpx.Response:
    transport = client._transport
    assert isinstance(transport, VendorTransport)
    return await transport.exchange(client.build_request("GET", path))


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_an_answer_split_anywhere_is_read_whole_and_its_connection_kept(
    vendor: Vendor,
) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    # One byte at a time: status line, headers, chunk sizes and data all cut apart.
    vendor.answers = [pieces(*(chunked[i : i + 1] for i in range(len(chunked)))), pieces(OK)]
    async with client_of(vendor.url) as client:
        first = await direct(client)
        second = await direct(client)
    assert (first.status_code, first.content) == (200, b"hello world")
    assert first.headers["transfer-encoding"] == "chunked"
    assert second.content == b"ok"
    assert [connection for connection, _ in vendor.requests] == [1, 1]


async def test_an_answer_ended_by_closing_is_whole_and_its_connection_not_kept(
    vendor: Vendor,
) -> None:
    vendor.answers = [pieces(b"HTTP/1.0 200 OK\r\n\r\nuntil ", b"the end", close=True)]
    vendor.answers.append(pieces(OK))
    async with client_of(vendor.url) as client:
        first = await direct(client)
        second = await client.get("/")
    assert first.content == b"until the end"
    assert first.http_version == "HTTP/1.0"
    assert second.content == b"ok"
    assert [connection for connection, _ in vendor.requests] == [1, 2]


async def test_a_connection_closed_mid_body_is_a_read_error_and_not_kept(
    vendor: Vendor,
) -> None:
    truncated = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    vendor.answers = [pieces(truncated, close=True), pieces(truncated, close=True), pieces(OK)]
    async with client_of(vendor.url) as client:
        with pytest.raises(httpx.ReadError) as direct_failure:
            await direct(client)
        with pytest.raises(httpx.ReadError) as client_failure:
            await client.get("/")
        assert (await direct(client)).content == b"ok"
    for failure in (direct_failure.value, client_failure.value):
        assert str(failure) == "the connection closed mid-answer"
        assert failure.__cause__ is None and failure.__context__ is None
    assert [connection for connection, _ in vendor.requests] == [1, 2, 3]


async def test_an_answer_longer_than_the_cap_is_refused_and_its_connection_closed(
    vendor: Vendor,
) -> None:
    """A declared length past the cap is refused on the headers, before any of its body is
    read; an answer without one (chunked) once that many bytes came."""
    declared = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n"
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3
    stall = asyncio.Event()  # the server never ends either answer

    def endless(start: bytes) -> Answer:
        async def write(writer: asyncio.StreamWriter) -> bool:
            writer.write(start)
            await writer.drain()
            await stall.wait()
            return False

        return write

    vendor.answers = [endless(declared), endless(chunked), pieces(OK)]
    async with client_of(vendor.url, max_answer_bytes=2048) as client:
        with pytest.raises(AnswerTooLarge) as declared_failure:
            await direct(client)
        with pytest.raises(AnswerTooLarge) as chunked_failure:
            await client.get("/")
        assert (await direct(client)).content == b"ok"
        stall.set()
    for failure in (declared_failure.value, chunked_failure.value):
        assert str(failure) == "the answer was longer than 2048 bytes"
        assert failure.__cause__ is None and failure.__context__ is None
    # Neither connection carried another call.
    assert [connection for connection, _ in vendor.requests] == [1, 2, 3]


async def test_a_cancelled_call_closes_its_connection_and_frees_its_slot(
    vendor: Vendor,
) -> None:
    never = asyncio.Event()

    async def stall(writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
        await never.wait()
        return False

    vendor.answers = [stall, pieces(OK)]
    # One connection in all: the next call gets through only if the slot came back.
    async with client_of(vendor.url, connections=1, pool=30.0) as client:
        call = asyncio.ensure_future(direct(client))
        await asyncio.wait_for(vendor.arrived.wait(), timeout=10)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert (await asyncio.wait_for(direct(client), timeout=10)).content == b"ok"
    never.set()
    assert [connection for connection, _ in vendor.requests] == [1, 2]


async def test_a_call_waiting_for_a_slot_times_out_as_a_pool_timeout(vendor: Vendor) -> None:
    release = asyncio.Event()

    async def held(writer: asyncio.StreamWriter) -> bool:
        await release.wait()
        writer.write(OK)
        return True

    vendor.answers = [held]
    async with client_of(vendor.url, connections=1, pool=0.05) as client:
        first = asyncio.ensure_future(direct(client))
        await asyncio.wait_for(vendor.arrived.wait(), timeout=10)
        with pytest.raises(httpx.PoolTimeout):
            await direct(client)
        release.set()
        assert (await first).content == b"ok"


async def test_an_answer_stalled_past_the_read_timeout_is_a_read_timeout(vendor: Vendor) -> None:
    never = asyncio.Event()

    async def stall(writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
        await never.wait()
        return False

    vendor.answers = [stall, pieces(OK)]
    async with client_of(vendor.url, read=0.05) as client:
        with pytest.raises(httpx.ReadTimeout) as failure:
            await asyncio.wait_for(direct(client), timeout=10)
        assert str(failure.value) == "the answer timed out"
        # The stalled connection is not the one the next call gets.
        assert (await direct(client)).content == b"ok"
    never.set()
    assert [connection for connection, _ in vendor.requests] == [1, 2]


async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(
    vendor: Vendor,
) -> None:
    async with client_of(vendor.url) as client:
        request = client.build_request("GET", "/", headers={"X-Note": "a\r\nX-Evil: 1"})
        transport = client._transport
        assert isinstance(transport, VendorTransport)
        with pytest.raises(httpx.LocalProtocolError):
            await transport.exchange(request)
    assert vendor.connections == 0


async def test_bytes_sent_after_an_answer_keep_its_connection_from_the_next_call(
    vendor: Vendor,
) -> None:
    vendor.answers = [pieces(OK + b"HTTP/1.1 200 OK\r\n"), pieces(OK)]
    async with client_of(vendor.url) as client:
        assert (await direct(client)).content == b"ok"
        assert (await direct(client)).content == b"ok"
    assert [connection for connection, _ in vendor.requests] == [1, 2]


def test_the_pool_runs_on_uvloop_as_on_asyncio() -> None:
    # `task-gateway serve` runs on uvloop, whose transports are not asyncio's classes.
    async def calls() -> list[int]:
        closing = pieces(b"HTTP/1.0 200 OK\r\n\r\nbye", close=True)
        served = Vendor([pieces(OK), closing, pieces(OK)])
        server = await asyncio.start_server(served.handle, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with server, client_of(url) as client:
            contents = [(await direct(client)).content for _ in range(3)]
        assert contents == [b"ok", b"bye", b"ok"]
        return [connection for connection, _ in served.requests]

    assert uvloop.run(calls()) == [1, 1, 2]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_tls_is_verified_against_the_trusted_certificates(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    served = Vendor([pieces(OK), pieces(OK)])
    server = await asyncio.start_server(served.handle, "127.0.0.1", 0, ssl=server_context)
    url = f"https://localhost:{server.sockets[0].getsockname()[1]}"
    async with server:
        trusting = VendorTransport(
            limits=vendor_limits(1), verify=ssl.create_default_context(cafile=cert)
        )
        async with httpx.AsyncClient(transport=trusting, base_url=url) as client:
            assert (await direct(client)).content == b"ok"
            assert (await direct(client)).content == b"ok"
        # The default trust store has never heard of this certificate.
        async with create_client(url, timeout=10) as default:
            with pytest.raises(httpx.ConnectError) as failure:
                await direct(default)
    assert str(failure.value) == "the connection failed"
    assert [connection for connection, _ in served.requests] == [1, 1]
