"""The two media types a GraphQL response can be sent as (GraphQL over HTTP,
graphql.github.io/graphql-over-http/draft).

`application/json` is the legacy one: every answer that could be parsed is a 200, so a client
must read the body to learn that its request was refused. A client that asks for
`application/graphql-response+json` is told by the status code instead: a request that was
never executed (it did not parse, did not validate, or its variables did not fit) is a 400 and
its body has no `data`.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLError
from starlette.types import Scope

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

_SCOPE_KEY = "credgraph.media"


def negotiated(accept: str | None) -> str:
    """The media type to answer with. Each type takes the quality of the most specific range
    that names it; on a tie a type named exactly beats a wildcard, the type named first beats
    the other, and between wildcards the legacy `application/json` wins (the spec's default for
    clients that do not say). A client that accepts neither still gets `application/json`
    rather than a 406, so that its error is readable."""
    best: dict[str, tuple[int, float, int]] = {}
    for position, part in enumerate((accept or "").split(",")):
        kind, *params = (piece.strip() for piece in part.split(";"))
        quality = _quality(params)
        for candidate in (JSON, GRAPHQL_RESPONSE):
            specificity = _specificity(kind.lower(), candidate)
            if specificity > best.get(candidate, (-1, 0.0, 0))[0]:
                best[candidate] = (specificity, quality, position)
    ranked = sorted(
        (quality, specificity, -position, candidate == JSON, candidate)
        for candidate, (specificity, quality, position) in best.items()
        if quality > 0
    )
    return ranked[-1][-1] if ranked else JSON


def _specificity(kind: str, candidate: str) -> int:
    if kind == candidate:
        return 2
    if kind == "application/*":
        return 1
    return 0 if kind == "*/*" else -1


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def remember(scope: Scope, accept: str | None) -> str:
    """Negotiate once per request and keep the answer where every later step can read it."""
    scope[_SCOPE_KEY] = media = negotiated(accept)
    return media


def of(scope: Scope) -> str:
    return scope.get(_SCOPE_KEY, JSON)


def never_executed(scope: Scope, data: object, errors: Sequence[GraphQLError] | None) -> bool:
    """Under the newer media type, a request error in the spec's sense — answered 400 and
    without `data`: no data, and no error that belongs to a field (every field error carries
    a path; parse, validation and variable errors carry none)."""
    return (
        of(scope) != JSON
        and data is None
        and bool(errors)
        and all(error.path is None for error in errors or ())
    )
