"""Normalising and bounding the free text administrators type (names, titles, URLs)."""

from __future__ import annotations

from urllib.parse import urlsplit

from resolvers.errors import Code, invalid


def required(value: str, *, field: str, limit: int = 200) -> str:
    """Whitespace folded; `REQUIRED` when empty, `TOO_LONG` past `limit` characters."""
    text = " ".join(value.split())
    if not text:
        raise invalid(Code.REQUIRED, f"{field} is required", field)
    return bounded(text, field=field, limit=limit)


def bounded(value: str, *, field: str, limit: int) -> str:
    if len(value) > limit:
        raise invalid(Code.TOO_LONG, f"{field} has at most {limit} characters", field)
    return value


def url(value: str | None, *, field: str) -> str | None:
    """An http(s) URL or None; anything else (javascript:, data:) is `INVALID_URL`."""
    if value is None or not value.strip():
        return None
    value = bounded(value.strip(), field=field, limit=2000)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid(Code.INVALID_URL, f"{field} must be an http(s) URL", field)
    return value
