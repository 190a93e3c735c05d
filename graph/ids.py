"""Opaque global ids: base64url("<Type>:<database id>"), so any id resolves through `node`."""

from __future__ import annotations

import base64
import binascii

from resolvers.errors import Code, DomainError
from store.ids import is_valid


def encode(type_name: str, db_id: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{db_id}".encode()).decode().rstrip("=")


def decode(
    global_id: str, *, expect: str | None = None, field: str | None = None
) -> tuple[str, str]:
    """(type name, database id) of a well-formed id; `INVALID_ID` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    type_name, _, db_id = raw.partition(":")
    if not type_name or not is_valid(db_id):
        raise DomainError(Code.INVALID_ID, f"{global_id!r} is not a credgraph id", field=field)
    if expect is not None and type_name != expect:
        raise DomainError(
            Code.INVALID_ID,
            f"{global_id!r} is the id of a {type_name}, not a {expect}",
            field=field,
        )
    return type_name, db_id


def db_id(global_id: str, *, expect: str, field: str) -> str:
    """The database id of a `expect` id a client sent in `field`."""
    return decode(global_id, expect=expect, field=field)[1]
