"""`schema.graphql` is the contract clients read: it must be what the code serves."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from graph.schema import schema

EXPORTED = Path(__file__).parent.parent / "schema.graphql"


def test_schema_graphql_matches_the_code():
    assert EXPORTED.read_text().strip() == print_schema(schema).strip(), (
        "schema.graphql is stale: run `strawberry export-schema graph.schema:schema "
        "--output schema.graphql`"
    )


def test_contract_names_are_in_the_schema():
    sdl = EXPORTED.read_text()
    for name in ("interface Node", "node(id: ID!): Node", "me: User!", "enum Role", "userErrors"):
        assert name in sdl
