"""Documents are what their structure proves, served with safe headers; links never come
from the request's Host."""

from __future__ import annotations

import pytest

from tests.helpers import JPEG, PDF, PNG, cpr_setup, document_input, submit


async def stored(db) -> tuple[int, int]:
    return (
        await db.db.records.count_documents({}),
        await db.db["documents.files"].count_documents({}),
    )


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.7\n<html><script>fetch('/steal')</script></html>", "application/pdf"),
        (PDF[:-40], "application/pdf"),  # cut off before its %%EOF
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 500, "image/png"),
        (b"\xff\xd8\xff<html></html>", "image/jpeg"),
        (PNG[:20], "image/png"),
    ],
)
async def test_a_file_that_only_starts_like_a_document_is_refused(api, db, org, content, kind):
    bls, *_ = await cpr_setup(api, org)
    payload = await submit(
        api, org.token(org.learner), document_input(label=bls, title="BLS"), content, "x", kind
    )
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("document", "INVALID_DOCUMENT")
    ]
    assert await stored(db) == (0, 0), "nothing is left behind"


@pytest.mark.parametrize(
    ("content", "kind"), [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")]
)
async def test_real_documents_are_accepted(api, http, org, content, kind):
    bls, *_ = await cpr_setup(api, org)
    payload = await submit(
        api, org.token(org.learner), document_input(label=bls, title="BLS"), content, "scan", kind
    )
    assert payload["userErrors"] == []
    download = await http.get(
        payload["record"]["document"]["url"],
        headers={"Authorization": f"Bearer {org.token(org.learner)}"},
    )
    assert download.content == content
    assert download.headers["content-type"] == kind
    assert download.headers["content-disposition"].startswith("inline;")


async def test_links_ignore_the_host_header_and_follow_the_public_url(api, org, start_app):
    bls, *_ = await cpr_setup(api, org)
    fields = document_input(label=bls, title="BLS")
    forged = await api.http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Host": "evil.example", "Authorization": f"Bearer {org.token(org.learner)}"},
    )
    assert forged.status_code == 200
    record = (await submit(api, org.token(org.learner), fields))["record"]
    assert record["document"]["url"] == f"/documents/{record['id']}"

    public = start_app(public_url="https://credentials.example.com", base_url="http://evil.example")
    async with public as started:
        response = await started.http.post(
            "/graphql",
            json={
                "query": "query($id: ID!) { node(id: $id) { ... on TrainingRecord"
                " { document { url } } } }",
                "variables": {"id": record["id"]},
            },
            headers={"Authorization": f"Bearer {org.token(org.learner)}"},
        )
    url = response.json()["data"]["node"]["document"]["url"]
    assert url == f"https://credentials.example.com/documents/{record['id']}"


async def test_graphiql_may_not_be_framed_and_runs_only_known_scripts(http):
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
