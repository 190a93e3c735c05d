"""Hostile requests: each gets a 4xx or a `userErrors` code, never a 500 or a trace."""

from __future__ import annotations

import json

import pytest

from tests.helpers import CREATE_CREDENTIAL, course


def auth(org) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.token(org.admin)}"}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"query": "{ me { id } }"', "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b'["not", "an", "object"]', "application/json"),
        (b'{"query": 42}', "application/json"),
        (b'{"query": "{ me { id } }", "variables": "nope"}', "application/json"),
        (b"query=%7Bme%7Bid%7D%7D", "application/x-www-form-urlencoded"),
        (b"{ me { id } }", "text/plain"),
        (b"<xml/>", "application/xml"),
    ],
)
async def test_malformed_bodies_and_content_types_are_4xx(http, org, content, content_type):
    response = await http.post(
        "/graphql", content=content, headers={"Content-Type": content_type, **auth(org)}
    )
    assert 400 <= response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert response.json()["errors"][0]["extensions"]["code"]


@pytest.mark.parametrize("date", ["yesterday", "2026-13-45T00:00:00Z", "", "9" * 50])
async def test_invalid_dates_are_bad_input(http, org, date):
    response = await http.post(
        "/graphql",
        json={
            "query": "query($d: DateTime) { me { credentials(asOf: $d) { totalCount } } }",
            "variables": {"d": date},
        },
        headers=auth(org),
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "INVALID_DATE")


@pytest.mark.parametrize("levels", [9, 50, 400, 3000])
async def test_absurdly_deep_criteria_are_refused_cleanly(http, api, org, levels):
    c = await course(api, org, "C")
    tree = '{"all": [' * levels + json.dumps({"course": c}) + "]}" * levels  # json.dumps recurses
    head = {"name": "Deep", "completeWithin": {"amount": 1, "unit": "DAY"}}
    fields = json.dumps(head)[:-1] + ', "criteria": ' + tree + "}"
    body = (
        '{"query": ' + json.dumps(CREATE_CREDENTIAL) + ', "variables": {"input": ' + fields + "}}"
    )
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json", **auth(org)}
    )
    assert response.status_code < 500, response.text[:500]
    payload = response.json()
    codes = [e["extensions"]["code"] for e in payload.get("errors", [])]
    codes += [
        e["code"]
        for e in ((payload.get("data") or {}).get("createCredential") or {}).get("userErrors", [])
    ]
    assert codes, payload
    assert "INTERNAL_SERVER_ERROR" not in codes
    assert set(codes) <= {"CRITERIA_TOO_DEEP", "BAD_USER_INPUT", "BAD_REQUEST"}
