"""Stored values as a client reads them in a `JSON` field: dates in ISO 8601, and ids as the
global ids of what they name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graph import ids


def as_json(value: Any, refers_to: str | None = None) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v, refers_to) for v in value]
    if refers_to is not None and isinstance(value, str):
        return ids.encode(refers_to, value)
    return value
