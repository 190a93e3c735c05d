"""Whatever a client sends as a body, the answer is a JSON error with a code, never a 500.

Generated bodies — any JSON for a request, any shape of a GraphQL multipart request (operations,
map, file and text parts), any bytes under any content type — go to the live app, with and
without a token.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import PDF

QUERY = "mutation($f: Upload) { __typename }"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
requests = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "query": st.one_of(st.sampled_from(["{ __typename }", QUERY, "{", ""]), json_values),
            "variables": json_values,
            "operationName": json_values,
            "extensions": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {"persistedQuery": st.fixed_dictionaries({"sha256Hash": json_values})}
                ),
            ),
        },
    ),
)
paths = st.one_of(
    st.sampled_from(["variables.f", "variables.f.0", "variables", "query", "variables.f.x"]),
    st.text(max_size=12),
)
files_maps = st.one_of(
    json_values, st.dictionaries(st.sampled_from(["0", "1", "x"]), st.lists(paths, max_size=3))
)


def check(response) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    assert "errors" in body or "data" in body
    for error in body.get("errors") or ():
        assert error["extensions"]["code"], body


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(request=requests, signed=st.booleans())
async def test_any_json_body_gets_a_coded_answer(http, org, request, signed):
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["Authorization"] = f"Bearer {org.token(org.learner)}"
    check(await http.post("/graphql", content=json.dumps(request), headers=headers))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    operations=st.one_of(requests, st.just({"query": QUERY, "variables": {"f": None}})),
    files_map=files_maps,
    parts=st.dictionaries(st.sampled_from(["0", "1", "x"]), st.booleans(), max_size=3),
    raw_operations=st.booleans(),
)
async def test_any_multipart_shape_gets_a_coded_answer(
    http, org, operations, files_map, parts, raw_operations
):
    data = {
        "operations": "{not json" if raw_operations else json.dumps(operations),
        "map": json.dumps(files_map),
    }
    files = {}
    for name, is_file in parts.items():
        if is_file:
            files[name] = ("card.pdf", PDF, "application/pdf")
        else:
            data[name] = "a text part"
    response = await http.post(
        "/graphql",
        data=data,
        files=files or {"unused": ("x.txt", b"x", "text/plain")},
        headers={"Authorization": f"Bearer {org.token(org.learner)}"},
    )
    check(response)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.binary(max_size=200),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/graphql-response+json",
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
        ]
    ),
)
async def test_any_bytes_get_a_coded_answer(http, org, content, content_type):
    response = await http.post(
        "/graphql",
        content=content,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {org.token(org.admin)}"},
    )
    check(response)
