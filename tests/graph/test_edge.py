"""The edge under hostile requests, against a real `credgraph serve` (uvicorn on loopback):
every refusal is a 4xx within milliseconds, and the server stays responsive meanwhile."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.servers import Server

PREFLIGHT = {"Apollo-Require-Preflight": "true"}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    running = Server(
        tmp_path_factory.mktemp("edge"),
        env={
            "CREDGRAPH_HEADER_TIMEOUT": "1s",
            "CREDGRAPH_BODY_TIMEOUT": "2s",
            "CREDGRAPH_MAX_BODY": "64KiB",
            "CREDGRAPH_MAX_DOCUMENT": "256KiB",
        },
    )
    running.wait_until_healthy()
    yield running
    running.stop()


def connect(server: Server) -> socket.socket:
    address = urlsplit(server.base)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1])


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the next twice: 2^levels fields from a few hundred bytes."""
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ __typename }}")
    return "{ ...F0 } " + " ".join(fragments)


def test_a_fragment_bomb_is_refused_at_once_while_healthz_answers(server):
    bomb = fragment_bomb(40)
    assert len(bomb) < 2_000
    answers: list[int] = []

    def health() -> None:
        answers.append(httpx.get(f"{server.base}/healthz", timeout=5).status_code)

    checker = threading.Thread(target=health)
    checker.start()
    # 2^40 paths: measured per path, as it once was, this would never be answered.
    response = httpx.post(server.url, json={"query": bomb}, timeout=10)
    checker.join()
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert len(answers) == 1, "/healthz answered meanwhile"


def test_a_megabyte_of_tokens_is_refused_before_it_is_all_parsed(server):
    query = "{ " + "__typename " * 60_000 + "}"  # 660 KB, too large even to read
    response = httpx.post(server.url, json={"query": query}, timeout=10)
    assert response.status_code == 413
    small = "{ " + "a " * 6_000 + "}"  # under the body limit, over the token limit
    response = httpx.post(server.url, json={"query": small}, timeout=10)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_TOKENS"


def chunks(total: int, size: int = 16 * 1024) -> Iterator[bytes]:
    yield b'{"query": "{ __typename }", "padding": "'
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


def test_a_chunked_body_is_counted_as_it_arrives(server):
    with httpx.Client(timeout=10) as client:
        response = client.post(
            server.url,
            content=chunks(2 * 1024 * 1024),
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_chunked_upload_is_counted_as_it_arrives(server):
    boundary = b"b0undary"

    def multipart() -> Iterator[bytes]:
        yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        yield b'{"query": "{ __typename }"}\r\n--' + boundary + b"\r\n"
        yield b'Content-Disposition: form-data; name="map"\r\n\r\n{}\r\n--' + boundary + b"\r\n"
        yield b'Content-Disposition: form-data; name="0"; filename="a.pdf"\r\n\r\n%PDF-'
        for _ in range(200):
            yield b"0" * 16 * 1024
        yield b"\r\n--" + boundary + b"--\r\n"

    with httpx.Client(timeout=10) as client:
        response = client.post(
            server.url,
            content=multipart(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary.decode()}",
                **PREFLIGHT,
            },
        )
    assert response.status_code == 413


def test_slow_headers_are_cut_off(server):
    """A header line every 100 ms would hold the connection forever; the deadline (1 s here)
    closes it: the read below ends at once (an open connection would time it out)."""
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for _ in range(20):
            time.sleep(0.1)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        sock.settimeout(5)
        try:
            rest = sock.recv(1024)
        except ConnectionResetError:
            rest = b""
        assert rest == b"", "a response instead of a cut"


@pytest.mark.parametrize("path", ["/graphql", "/verify"])
def test_a_slow_body_is_cut_off_with_408(server, path):
    """On every route: `/verify` answers anyone, and must not be held open by a trickle."""
    with connect(server) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".encode()
            + b'Content-Length: 100\r\n\r\n{"query"'
        )
        sock.settimeout(10)
        answer = b""
        while b"REQUEST_TIMEOUT" not in answer and (part := sock.recv(4096)):
            answer += part
        assert status_of(answer) == 408
        assert b"REQUEST_TIMEOUT" in answer
