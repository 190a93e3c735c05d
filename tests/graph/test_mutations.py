"""Conventions every mutation keeps, checked on all of them from the schema: one `input`, a
payload of its own named after it, and a malformed id reported in `userErrors` — never as a
top-level error — whichever of its inputs carries it."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    get_named_type,
)

from tests.generated import GRAPHQL, SCALARS

MUTATIONS = sorted(GRAPHQL.mutation_type.fields)
DOCUMENT = "mutation($input: {type}) {{ {name}(input: $input) {{ userErrors {{ code }} }} }}"


def with_bad_ids(type_: Any) -> Any:
    """A value of the type, every ID in it malformed."""
    if isinstance(type_, GraphQLNonNull):
        return with_bad_ids(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [with_bad_ids(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        definition = type_.extensions.get("strawberry-definition")
        if type_.is_one_of or getattr(definition, "is_one_of", False):
            return {"course": "not-an-id"}
        return {
            key: with_bad_ids(field.type)
            for key, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) or _carries_id(field.type)
        }
    if type_.name == "ID":
        return "not-an-id"
    return SCALARS.get(type_.name, "x")


def _carries_id(type_: Any, depth: int = 0) -> bool:
    named = get_named_type(type_)
    if named.name == "ID":
        return True
    if isinstance(named, GraphQLInputObjectType) and depth < 2:
        return any(_carries_id(f.type, depth + 1) for f in named.fields.values())
    return False


@pytest.mark.parametrize("name", MUTATIONS)
def test_one_input_and_a_payload_named_after_the_mutation(name):
    field = GRAPHQL.mutation_type.fields[name]
    assert list(field.args) == ["input"], f"{name} takes one `input`, not {list(field.args)}"
    payload = get_named_type(field.type)
    assert payload.name == f"{name[:1].upper()}{name[1:]}Payload"
    assert "userErrors" in payload.fields


def _input(name: str) -> Any:
    argument = GRAPHQL.mutation_type.fields[name].args.get("input")
    return argument.type if argument else None  # no `input`: the test above says so


@pytest.mark.parametrize("name", [n for n in MUTATIONS if _input(n) and _carries_id(_input(n))])
async def test_a_malformed_id_is_a_user_error(api, org, name):
    body = await api.call(
        DOCUMENT.format(type=_input(name), name=name),
        {"input": with_bad_ids(_input(name))},
        token=org.token(org.admin),
    )
    assert "errors" not in body, f"{name}: decode ids inside attempt's thunk: {body}"
    assert [e["code"] for e in body["data"][name]["userErrors"]] == ["INVALID_ID"]
