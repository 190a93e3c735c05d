"""Requests the server makes to addresses a tenant's administrator named (an identity
provider's keys, a webhook's receiver): never to the server's own networks.

An administrator must not make the server reach 169.254.169.254, 10.0.0.0/8 or its own
loopback. Every address a name resolves to is judged, and a request is then made to the very
address judged (`post`), so a name that resolves elsewhere the second time (DNS rebinding)
gains nothing.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import unicodedata
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public(host: str, *, literal_only: bool = False) -> bool:
    """Whether every address `host` names is on the public internet. Only an address written
    out is judged with `literal_only`."""
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        if literal_only:
            return True
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return True  # the request itself will say it cannot reach it
    return all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_global for info in found)


def plain(url: str) -> bool:
    """A URL with a host and nothing that could smuggle more: no credentials, query or
    fragment, no space or control character, a port that is a number."""
    if any(c.isspace() or unicodedata.category(c)[0] == "C" for c in url):
        return False
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname or "", parts.port  # a port that is no number raises
    except ValueError:
        return False
    return bool(host) and not (parts.username or parts.password or parts.query or parts.fragment)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is refused: it could lead from the named https to anywhere."""

    def redirect_request(self, *args: Any) -> None:
        return None


class Refused(Exception):
    """The address may not be reached, or did not answer usably; the message says why."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes  # its first bytes, at most what was asked for


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_loopback: bool,
    max_bytes: int = 4096,
) -> Answer:  # fmt: skip
    """POST `body` to `url` — blocking: run it in a thread — at an address resolved and judged
    here (public, or loopback when `allow_loopback`), and read at most `max_bytes` back.
    Redirects are not followed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _judged(host, port, allow_loopback=allow_loopback)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPS(host, port, address, timeout)
    else:
        connection = _PinnedHTTP(host, port, address, timeout)
    try:
        connection.request("POST", parts.path or "/", body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.read(max_bytes))
    except (OSError, http.client.HTTPException) as error:
        if isinstance(error, TimeoutError | socket.timeout):
            raise Refused(f"no answer within {timeout:g} s") from error
        raise Refused(f"could not be reached ({error})") from error
    finally:
        connection.close()


def _judged(host: str, port: int, *, allow_loopback: bool) -> str:
    """The one address a request to `host` goes to, if every address it names may be
    reached."""
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise Refused(f"{host} could not be resolved") from error
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    for address in addresses:
        if not (address.is_global or (allow_loopback and address.is_loopback)):
            raise Refused(f"{host} is on a private network")
    return str(addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to the address judged, whatever the name resolves to by now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As `_PinnedHTTP`, with TLS verified for the name (SNI and certificate)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]
