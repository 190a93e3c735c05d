"""Requests the server makes to addresses a tenant's administrator named (an identity
provider's keys, a webhook's receiver): never to the server's own networks.

An administrator must not make the server reach 169.254.169.254, 10.0.0.0/8 or its own
loopback. Every address a name resolves to is judged, and a request is then made to the very
address judged (`post`), so a name that resolves elsewhere the second time (DNS rebinding)
gains nothing.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
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
        return _global(ipaddress.ip_address(host))
    except ValueError:
        if literal_only:
            return True
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return True  # the request itself will say it cannot reach it
    return all(_global(ipaddress.ip_address(str(info[4][0]).split("%")[0])) for info in found)


NAT64 = ipaddress.ip_network("64:ff9b::/96")
COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible, long deprecated


def _global(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """On the public internet, and so is any IPv4 address an IPv6 one carries (mapped,
    6to4, NAT64, compatible): those reach IPv4 networks where they are routed."""
    if address.is_multicast or not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and (address in NAT64 or address in COMPATIBLE):
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is not None:
            return _global(carried)
    return True


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


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_loopback: bool
) -> Answer:  # fmt: skip
    """POST `body` to `url` — blocking: run it in a thread — at an address resolved and judged
    here (public, or loopback when `allow_loopback`), and answer its status. `timeout` bounds
    the whole exchange, not each read (a receiver dripping its answer byte by byte is cut
    off), and the body is never read. Redirects are not followed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _judged(host, port, allow_loopback=allow_loopback)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPS(host, port, address, timeout)
    else:
        connection = _PinnedHTTP(host, port, address, timeout)
    cut = threading.Event()
    deadline = threading.Timer(timeout, _cut, (connection, cut))
    deadline.start()
    try:
        connection.request("POST", parts.path or "/", body=body, headers=headers)
        return Answer(connection.getresponse().status)
    except (OSError, http.client.HTTPException) as error:
        if cut.is_set() or isinstance(error, TimeoutError | socket.timeout):
            raise Refused(f"no answer within {timeout:g} s") from error
        raise Refused(f"could not be reached ({error})") from error
    finally:
        deadline.cancel()
        connection.close()


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    """End an exchange past its deadline: the blocked read returns at once."""
    cut.set()
    with contextlib.suppress(OSError):
        if connection.sock is not None:
            connection.sock.shutdown(socket.SHUT_RDWR)


def _judged(host: str, port: int, *, allow_loopback: bool) -> str:
    """The one address a request to `host` goes to, if every address it names may be
    reached."""
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise Refused(f"{host} could not be resolved") from error
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    for address in addresses:
        if not (_global(address) or (allow_loopback and address.is_loopback)):
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
