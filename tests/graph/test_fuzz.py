"""Property-based fuzzing of the live app from its own schema: no input is an internal error.

`CREDGRAPH_FUZZ_EXAMPLES=5000 pytest tests/graph/test_fuzz.py` runs a longer campaign.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql

SCHEMA = (Path(__file__).parent.parent.parent / "schema.graphql").read_text()
EXAMPLES = int(os.environ.get("CREDGRAPH_FUZZ_EXAMPLES", "60"))
SCALARS = {
    "DateTime": st.one_of(
        st.datetimes().map(lambda d: d.isoformat() + "Z"), st.text(max_size=30)
    ).map(nodes.String),
    "Date": st.one_of(st.dates().map(str), st.text(max_size=12)).map(nodes.String),
    "Upload": st.just(nodes.Null),
}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_no_internal_error(response) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    for error in body.get("errors", []):
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", (error, body)
        assert "Traceback" not in error["message"]


@FUZZ
@given(query=gql.queries(SCHEMA, custom_scalars=SCALARS))
async def test_generated_queries_never_fail_internally(http, org, query):
    response = await http.post(
        "/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {org.token(org.admin)}"},
    )
    assert_no_internal_error(response)


@FUZZ
@given(query=gql.mutations(SCHEMA, custom_scalars=SCALARS))
async def test_generated_mutations_never_fail_internally(http, org, query):
    response = await http.post(
        "/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {org.token(org.admin)}"},
    )
    assert_no_internal_error(response)
