"""The signing keys of the OpenID Connect issuers whose tokens sign people in: each one's
discovery document and key set (JWKS), fetched off the event loop, cached, and fetched again
when a token names a key we do not hold.

An issuer is asked at most once per `REFRESH_INTERVAL`, however its fetches are triggered, so a
flood of made-up key ids can neither hammer an identity provider nor keep requests waiting on
one; requests naming a key we hold never wait for a fetch. Time is the request's moment (the
app's injectable clock), so tests move it rather than sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit

import jwt

from resolvers import outbound
from resolvers.errors import unauthenticated
from resolvers.outbound import Refused, loopback, public

log = logging.getLogger("credgraph.sso")

ALGORITHMS = ("RS256", "ES256")  # the only signatures accepted; a key of any other is ignored
LIFETIME = timedelta(minutes=10)  # keys are fetched again after this: a removed key stops here
REFRESH_INTERVAL = timedelta(seconds=30)  # at most one fetch per issuer in this window
TIMEOUT = 5.0  # seconds for a whole fetch (discovery and keys)
MAX_BYTES = 512 * 1024  # a discovery document or key set larger than this is refused
DISCOVERY = "/.well-known/openid-configuration"


def fetchable(url: str) -> bool:
    """Whether we may fetch from `url`: https, or http to this machine (a local issuer in
    tests and development); a plain URL (`outbound.plain`), never to an address of a private
    network (`outbound.public` checks a name's at the fetch)."""
    if not outbound.plain(url):
        return False
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not loopback(host) and not public(host, literal_only=True):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and loopback(host))


_OPENER = urllib.request.build_opener(outbound.NoRedirects())


def _get_json(url: str, timeout: float) -> dict[str, Any]:
    host = urlsplit(url).hostname or ""
    if not loopback(host) and not public(host):
        raise Refused(f"{url} is on a private network")
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
    except HTTPError as error:
        error.close()
        raise Refused(f"{url} answered HTTP {error.code}") from error
    except (OSError, http.client.HTTPException) as error:
        if isinstance(error, TimeoutError) or isinstance(
            getattr(error, "reason", None), TimeoutError
        ):
            # the socket's own timeout (urllib wraps a connect's): said as the overall one is
            raise Refused(f"{url} did not answer within {timeout:g} s") from error
        raise Refused(f"{url} could not be reached ({error})") from error
    if len(body) > MAX_BYTES:
        raise Refused(f"{url} served more than {MAX_BYTES} bytes")
    try:
        found = json.loads(body)
    except ValueError as error:
        raise Refused(f"{url} did not serve JSON") from error
    if not isinstance(found, dict):
        raise Refused(f"{url} did not serve a JSON object")
    return found


def _jwks_uri(issuer: str, timeout: float) -> str:
    discovery = _get_json(issuer.rstrip("/") + DISCOVERY, timeout)
    if discovery.get("issuer") != issuer:
        raise Refused(f"the discovery document of {issuer} names another issuer")
    uri = discovery.get("jwks_uri")
    if not isinstance(uri, str) or not fetchable(uri):
        raise Refused(f"the discovery document of {issuer} has no usable jwks_uri")
    return uri


def _signing_keys(jwks_uri: str, timeout: float) -> dict[str, jwt.PyJWK]:
    """The set's keys for signatures we accept, by key id (keys without one are of no use:
    a token names its key)."""
    try:
        found = jwt.PyJWKSet.from_dict(_get_json(jwks_uri, timeout))
    except jwt.PyJWTError as error:
        raise Refused(f"{jwks_uri} served no usable key set ({error})") from error
    return {
        key.key_id: key
        for key in found.keys
        if key.key_id and key.public_key_use in ("sig", None) and key.algorithm_name in ALGORITHMS
    }


@dataclass(frozen=True, slots=True)
class _Keys:
    jwks_uri: str  # from the discovery document, fetched with the keys when they are stale
    by_kid: dict[str, jwt.PyJWK]
    fetched_at: datetime


@dataclass
class _Issuer:
    fetching: asyncio.Lock = field(default_factory=asyncio.Lock)  # one fetch at a time
    keys: _Keys | None = None
    tried_at: datetime | None = None
    failure: str | None = None  # why the last fetch failed, until one succeeds

    def fresh(self, kid: str, now: datetime) -> jwt.PyJWK | None:
        if self.keys is None or now - self.keys.fetched_at >= LIFETIME:
            return None
        return self.keys.by_kid.get(kid)

    def may_fetch(self, now: datetime) -> bool:
        return self.tried_at is None or now - self.tried_at >= REFRESH_INTERVAL


class KeySets:
    """Every issuer's keys, kept for the app's lifetime (`resolvers.sso.Issuers` holds it)."""

    def __init__(self, *, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self._issuers: dict[str, _Issuer] = {}

    async def settled(self, issuer: str) -> None:
        """Wait (at most the fetch's timeout) for a fetch of the issuer's keys under way. Called
        before a request takes a slot of the server's admission: requests wait for a slow
        provider without holding the slots every other organization's requests need."""
        state = self._issuers.get(issuer)
        if state is None or not state.fetching.locked():
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeout), state.fetching:
                pass

    async def key(self, issuer: str, kid: str, *, now: datetime) -> jwt.PyJWK:
        """The issuer's key `kid`, or `UNAUTHENTICATED` saying why there is none.

        Stale keys are used while the issuer cannot be asked (rate limit, outage): signing
        everyone out because an identity provider is briefly down would be worse."""
        state = self._issuers.setdefault(issuer, _Issuer())
        if found := state.fresh(kid, now):
            return found
        held = state.keys.by_kid.get(kid) if state.keys else None
        if state.fetching.locked():  # another request fetches: no waiting while admitted
            if held is not None:  # stale, and good until the refresh is done
                return held
            raise unauthenticated(
                "the signing keys of the token's issuer are being fetched; try again in a moment"
            )
        async with state.fetching:
            if found := state.fresh(kid, now):  # fetched while this request waited
                return found
            if state.may_fetch(now):
                await self._fetch(issuer, state, now)
        if state.keys is None:  # why goes to the log: callers are told no more than this
            raise unauthenticated(
                "the signing keys of the token's issuer could not be fetched; try again shortly"
            )
        if found := state.keys.by_kid.get(kid):
            return found
        raise unauthenticated(f"the token's issuer has no signing key {kid[:64]!r}")

    async def _fetch(self, issuer: str, state: _Issuer, now: datetime) -> None:
        state.tried_at = now
        known = (
            state.keys.jwks_uri if state.keys and now - state.keys.fetched_at < LIFETIME else None
        )
        try:
            jwks_uri, by_kid = await asyncio.wait_for(
                asyncio.to_thread(self._download, issuer, known), self.timeout
            )
        except Refused as error:
            state.failure = str(error)
        except TimeoutError:
            state.failure = f"{issuer} did not answer within {self.timeout:g} s"
        else:
            state.keys, state.failure = _Keys(jwks_uri, by_kid, now), None
            return
        log.warning("single sign-on: %s", state.failure)

    def _download(self, issuer: str, jwks_uri: str | None) -> tuple[str, dict[str, jwt.PyJWK]]:
        """In a worker thread: the key set's address (from discovery unless known) and keys."""
        jwks_uri = jwks_uri or _jwks_uri(issuer, self.timeout)
        return jwks_uri, _signing_keys(jwks_uri, self.timeout)
