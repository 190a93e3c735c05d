"""`/metrics` through the real app: requests by operation and status, polls answered 304,
database round trips, and a bound on what clients can make it remember."""

from __future__ import annotations

import uuid

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from graph import metrics

ME = "query Mine { me { email } }"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def scrape(http) -> dict[str, list]:
    response = await http.get("/metrics")
    assert response.status_code == 200
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


async def poll(http, token, tag=None):
    headers = {"Authorization": f"Bearer {token}", **({"If-None-Match": tag} if tag else {})}
    return await http.post("/graphql", json={"query": ME, "operationName": "Mine"}, headers=headers)


async def test_polls_and_their_304s_are_counted_by_operation(http, org):
    labels = {"route": "/graphql", "operation": "Mine"}
    executed = sample("credgraph_requests_total", **labels, status="200")
    unchanged = sample("credgraph_requests_total", **labels, status="304")
    first = await poll(http, org.token(org.admin))
    for _ in range(3):
        assert (await poll(http, org.token(org.admin), first.headers["etag"])).status_code == 304
    assert sample("credgraph_requests_total", **labels, status="200") == executed + 1
    assert sample("credgraph_requests_total", **labels, status="304") == unchanged + 3
    families = await scrape(http)
    assert any(
        s.labels.get("operation") == "Mine" for s in families["credgraph_request_duration_seconds"]
    )


async def test_database_round_trips_are_counted_and_a_304_makes_few(http, org):
    before = sum(s.value for s in (await scrape(http))["credgraph_database_commands"])
    first = await poll(http, org.token(org.admin))
    after_execution = sum(s.value for s in (await scrape(http))["credgraph_database_commands"])
    assert after_execution > before
    await poll(http, org.token(org.admin), first.headers["etag"])
    after_304 = sum(s.value for s in (await scrape(http))["credgraph_database_commands"])
    assert after_304 - after_execution <= after_execution - before


async def test_clients_cannot_grow_the_operation_labels(http, org, monkeypatch):
    monkeypatch.setattr(metrics, "_operations", set())  # other tests' names stay labelled
    others = sample("credgraph_requests_total", route="/graphql", operation="other", status="200")
    sent = {"op" + uuid.uuid4().hex for _ in range(metrics.MAX_OPERATIONS + 20)}
    for name in sent:
        await http.post(
            "/graphql",
            json={"query": f"query {name} {{ __typename }}", "operationName": name},
            headers={"Authorization": f"Bearer {org.token(org.admin)}"},
        )
    labelled = {s.labels.get("operation") for s in (await scrape(http))["credgraph_requests"]}
    assert len(labelled & sent) == metrics.MAX_OPERATIONS
    assert (
        sample("credgraph_requests_total", route="/graphql", operation="other", status="200")
        == others + 20
    )
