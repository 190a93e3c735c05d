"""The JSON-LD contexts credgraph's credentials name, shipped with the package
(`resolvers/jsonld/`, byte-for-byte copies of the published files): whoever reads a credential
here — the tests expanding it, a verifier embedding credgraph — needs no network to learn what
its terms mean."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
SHIPPED = {
    CREDENTIALS_V2: "credentials-v2.jsonld",
    OPEN_BADGES_V3: "ob-v3p0-context-3.0.3.json",
}


def text(url: str) -> str:
    """The shipped context at `url`, as published; KeyError for one not shipped."""
    return files("resolvers").joinpath("jsonld", SHIPPED[url]).read_text(encoding="utf-8")


def moment(at: datetime) -> str:
    """An XML Schema dateTime in UTC, as the contexts type `validFrom` and `validUntil`."""
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
