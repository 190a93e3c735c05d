"""The public addresses of what credgraph publishes for verifiers: each organization's issuer
profile and keys, and its status lists. They are written into signed credentials, so they are
built from the configured public URL (`CREDGRAPH_PUBLIC_URL`), never from a request's `Host`;
and read back from a presented credential to find the organization it names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from store.ids import is_valid

_ID = r"([0-9a-f]{24})"


@dataclass(frozen=True, slots=True)
class Links:
    base: str  # e.g. https://credentials.example.com, without a trailing slash

    def issuer(self, org_id: str) -> str:
        return f"{self.base}/issuers/{org_id}"

    def keys(self, org_id: str) -> str:
        return f"{self.issuer(org_id)}/jwks"

    def status_list(self, org_id: str, number: int) -> str:
        return f"{self.base}/status/{org_id}/{number}"

    def issuer_org(self, url: str) -> str | None:
        """The organization an issuer id of ours names; None for any other."""
        found = re.fullmatch(re.escape(self.base) + "/issuers/" + _ID, url)
        return found[1] if found and is_valid(found[1]) else None

    def status_list_of(self, url: str) -> tuple[str, int] | None:
        """The organization and number of a status list of ours; None for any other."""
        found = re.fullmatch(re.escape(self.base) + "/status/" + _ID + r"/(0|[1-9][0-9]{0,8})", url)
        return (found[1], int(found[2])) if found and is_valid(found[1]) else None
