"""Every documented variable, set on a real `credgraph serve`, observed doing what it says."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jwt
import pytest

from graph.settings import OPTIONS
from store import embedded
from tests.helpers import PDF
from tests.receiver import Receiver
from tests.servers import Server, children_of, credgraph, free_port, processes_using

ORIGIN = "https://dash.example"


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("configured") / "somewhere"
    port = free_port()
    env = {
        "CREDGRAPH_DATA_DIR": str(data_dir),
        "CREDGRAPH_SECRET": "a-configured-secret-long-enough-for-hs256-keys",
        "CREDGRAPH_HOST": "127.0.0.1",
        "CREDGRAPH_PORT": str(port),
        "CREDGRAPH_WORKERS": "2",
        "CREDGRAPH_TOKEN_TTL": "1h",
        "CREDGRAPH_DB_TIMEOUT": "2s",
        "CREDGRAPH_EMBEDDED_DURABLE": "false",
        "CREDGRAPH_MAX_DOCUMENT": "1KiB",
        "CREDGRAPH_MAX_BODY": "2KiB",
        "CREDGRAPH_MAX_DEPTH": "3",
        "CREDGRAPH_MAX_ALIASES": "2",
        "CREDGRAPH_MAX_TOKENS": "60",
        "CREDGRAPH_MAX_COST": "10",
        "CREDGRAPH_INTROSPECTION": "false",
        "CREDGRAPH_CORS_ORIGINS": ORIGIN,
        "CREDGRAPH_PUBLIC_URL": "https://credentials.example",
        "CREDGRAPH_BODY_TIMEOUT": "1s",
        "CREDGRAPH_HEADER_TIMEOUT": "1s",
        "CREDGRAPH_LOG_FORMAT": "json",
        "CREDGRAPH_METRICS_TOKEN": "scrape-me",
    }
    server = Server(data_dir, env=env, port=None)
    server.wait_until_healthy()
    boot = credgraph(
        "bootstrap", "--org", "Configured", "--admin-email", "a@c.test", data_dir=data_dir, **env
    )
    assert boot.returncode == 0, boot.stderr
    yield server, env, boot.stdout.strip(), port
    server.stop()


def code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def test_where_it_listens_and_keeps_its_files(configured):
    server, env, _, port = configured
    assert urlsplit(server.url).port == port
    data_dir = Path(env["CREDGRAPH_DATA_DIR"])
    assert (data_dir / embedded.ADDRESS_FILE).exists()
    assert len(children_of(server.process.pid)) >= 2, "CREDGRAPH_WORKERS"
    database = [p for p in processes_using(data_dir) if "secantus" in cmdline(p)]
    assert database, "the embedded database runs under CREDGRAPH_DATA_DIR"
    assert "--sync-on-commit" not in cmdline(database[0]), "CREDGRAPH_EMBEDDED_DURABLE=false"


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_tokens_are_signed_with_the_secret_for_the_ttl(configured):
    _, env, token, _ = configured
    claims = jwt.decode(token, env["CREDGRAPH_SECRET"], algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 3600


def test_the_query_limits(configured):
    server, _, token, _ = configured
    assert "errors" not in server.post(token, "{ me { organization { id } } }").json()
    deep = server.post(token, "{ me { credentials { edges { node { id } } } } }")
    assert (deep.status_code, code(deep)) == (400, "QUERY_TOO_DEEP")
    aliases = server.post(token, "{ a: __typename b: __typename c: __typename }")
    assert code(aliases) == "TOO_MANY_ALIASES"
    tokens = server.post(token, "{ " + "__typename " * 61 + "}")
    assert code(tokens) == "TOO_MANY_TOKENS"
    costly = server.post(token, "{ me { credentials { totalCount } } }")
    assert code(costly) == "QUERY_TOO_COMPLEX"
    introspection = server.post(token, "{ __schema { queryType { name } } }")
    assert code(introspection) == "GRAPHQL_VALIDATION_FAILED"


def test_the_body_and_document_limits(configured):
    server, _, token, _ = configured
    big = server.post(token, "{ __typename }", padding="x" * 3000)
    assert (big.status_code, code(big)) == (413, "PAYLOAD_TOO_LARGE")
    upload = httpx.post(
        server.url,
        data={
            "operations": json.dumps(
                {
                    "query": "mutation($f: Upload) { submitTrainingRecord(input: {type: "
                    'CREDENTIAL_DOCUMENT, title: "T", issueDate: "2026-01-01", document: $f}) '
                    "{ record { document { url } } userErrors { code } } }",
                    "variables": {"f": None},
                }
            ),
            "map": json.dumps({"0": ["variables.f"]}),
        },
        files={"0": ("card.pdf", PDF + b"%" * 2000, "application/pdf")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    errors = upload.json()["data"]["submitTrainingRecord"]["userErrors"]
    assert errors == [{"code": "DOCUMENT_TOO_LARGE"}], "CREDGRAPH_MAX_DOCUMENT"


def test_links_are_built_under_the_public_url(configured):
    server, _, token, _ = configured
    made = httpx.post(
        server.url,
        data={
            "operations": json.dumps(
                {
                    "query": "mutation($f: Upload) { submitTrainingRecord(input: {type: "
                    'CREDENTIAL_DOCUMENT, title: "T", issueDate: "2026-01-01", document: $f}) '
                    "{ record { id document { url } } userErrors { code } } }",
                    "variables": {"f": None},
                }
            ),
            "map": json.dumps({"0": ["variables.f"]}),
        },
        files={"0": ("card.pdf", PDF, "application/pdf")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()["data"]["submitTrainingRecord"]
    assert made["userErrors"] == []
    record = made["record"]
    assert record["document"]["url"] == f"https://credentials.example/documents/{record['id']}"


def test_cors_for_the_configured_origin_only(configured):
    server, _, _, _ = configured
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, if-none-match, content-type",
    }
    allowed = httpx.options(server.url, headers=preflight, timeout=10)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers
    assert "if-none-match" in allowed_headers
    assert int(allowed.headers["access-control-max-age"]) > 0
    other = httpx.options(server.url, headers={**preflight, "Origin": "https://evil.example"})
    assert other.status_code == 400
    poll = httpx.post(server.url, json={"query": "{ __typename }"}, headers={"Origin": ORIGIN})
    assert poll.headers["access-control-allow-origin"] == ORIGIN
    assert "etag" in poll.headers["access-control-expose-headers"].lower()


def test_slow_clients_are_cut_off(configured):
    server, _, _, _ = configured
    address = urlsplit(server.base)
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50\r\n\r\n{"
        )
        answer = b""
        while b"REQUEST_TIMEOUT" not in answer and (part := sock.recv(4096)):
            answer += part
    assert b" 408 " in answer, "CREDGRAPH_BODY_TIMEOUT"
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(1.5)
        assert sock.recv(1024) == b"", "CREDGRAPH_HEADER_TIMEOUT"


def test_logs_are_json_lines_with_the_request(configured):
    server, _, token, _ = configured
    server.post(token, "query Named { __typename }", operationName="Named")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = server.stderr.get(timeout=10)
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("operation") == "Named":
            assert entry["status"] == 200
            assert entry["request_id"]
            assert entry["organization"]
            assert entry["duration_ms"] >= 0
            return
    raise AssertionError("no JSON line for the request")


def counted(scrape: str, name: str, **labels: str) -> float:
    """The sum of a sample over every label set that includes `labels`."""
    total = 0.0
    for line in scrape.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and all(f'{k}="{v}"' in (match[1] or "") for k, v in labels.items()):
            total += float(match[2])
    return total


def test_metrics_add_up_every_worker_behind_the_token(configured):
    server, env, token, _ = configured
    metrics = server.url.replace("/graphql", "/metrics")
    refused = httpx.get(metrics, timeout=10)
    assert refused.status_code == 401, "CREDGRAPH_METRICS_TOKEN"
    assert httpx.get(metrics, headers={"Authorization": "Bearer wrong"}).status_code == 401
    for _ in range(8):  # spread over both workers by the kernel
        server.post(token, "query Counted { me { email } }", operationName="Counted")
    scraper = {"Authorization": f"Bearer {env['CREDGRAPH_METRICS_TOKEN']}"}
    for _ in range(4):  # whichever worker answers the scrape adds up both
        scrape = httpx.get(metrics, headers=scraper, timeout=10)
        assert scrape.status_code == 200
        assert scrape.headers["content-type"].startswith("text/plain")
        assert counted(scrape.text, "credgraph_requests_total", operation="Counted") == 8
        assert (
            counted(scrape.text, "credgraph_requests_total", operation="Counted", status="200") == 8
        )
        assert counted(scrape.text, "credgraph_database_commands_total", command="find") > 0


def test_the_database_timeout_and_uri(tmp_path):
    """MONGODB_URI points at a database; CREDGRAPH_DB_TIMEOUT bounds how long it is waited on."""
    server = embedded.acquire(tmp_path / "db", durable=False)
    try:
        boot = credgraph(
            "bootstrap", "--org", "Uri", "--admin-email", "a@uri.test",
            data_dir=tmp_path / "data", MONGODB_URI=server.uri,
        )  # fmt: skip
        assert boot.returncode == 0, boot.stderr
    finally:
        server.stop()
    started = time.monotonic()
    dead = credgraph(
        "token", "a@uri.test", data_dir=tmp_path / "data",
        MONGODB_URI="mongodb://127.0.0.1:1/x", CREDGRAPH_DB_TIMEOUT="1s",
    )  # fmt: skip
    assert dead.returncode == 1
    assert time.monotonic() - started < 20
    assert dead.stderr.count("\n") == 1


def test_past_the_requests_at_work_and_waiting_the_rest_are_refused_at_once(tmp_path):
    """CREDGRAPH_MAX_CONCURRENT and CREDGRAPH_MAX_WAITING: one at work, one waiting, and every
    other of a burst refused with 503 and Retry-After; then the server answers as before."""
    env = {"CREDGRAPH_MAX_CONCURRENT": "1", "CREDGRAPH_MAX_WAITING": "1"}
    data_dir = tmp_path / "data"
    server = Server(data_dir, env=env)
    try:
        server.wait_until_healthy()
        boot = credgraph(
            "bootstrap", "--org", "Busy", "--admin-email", "a@busy.test", data_dir=data_dir, **env
        )  # fmt: skip
        assert boot.returncode == 0, boot.stderr
        headers = {"Authorization": f"Bearer {boot.stdout.strip()}"}

        async def burst(n: int) -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=40)
            async with httpx.AsyncClient(timeout=30, limits=limits) as client:
                return await asyncio.gather(
                    *(
                        client.post(server.url, json={"query": f"{{ labels {{ name }} }} # {i}"},
                                    headers=headers)
                        for i in range(n)
                    )
                )  # fmt: skip

        pair = asyncio.run(burst(2))
        assert [response.status_code for response in pair] == [200, 200], "one works, one waits"
        answers = asyncio.run(burst(40))
        statuses = {response.status_code for response in answers}
        assert statuses == {200, 503}
        refused = next(response for response in answers if response.status_code == 503)
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        again = httpx.post(server.url, json={"query": "{ labels { name } }"}, headers=headers)
        assert again.json() == {"data": {"labels": []}}
    finally:
        server.stop()


def test_every_documented_variable_is_set_by_these_tests():
    source = Path(__file__).read_text()
    missing = [o.env for o in OPTIONS if not re.search(rf"\b{o.env}\b\W*[:=]", source)]
    assert missing == []


def test_reminders_go_out_once_from_every_worker(tmp_path):
    """CREDGRAPH_REMINDER_EVERY: two workers look every second; Ana Lima's expired
    credential (in the demo data) reaches her once, whichever worker finds it first."""
    env = {"CREDGRAPH_REMINDER_EVERY": "1s", "CREDGRAPH_WORKERS": "2"}
    server = Server(tmp_path, "--demo", "--demo-staff", "4", env=env)
    try:
        server.wait_until_healthy()
        made = credgraph("token", "ana.lima@northwind.example", data_dir=tmp_path)
        ana = made.stdout.strip()
        inbox = "{ me { notifications { edges { node { kind } } } } }"

        def kinds() -> list[str]:
            edges = server.post(ana, inbox).json()["data"]["me"]["notifications"]["edges"]
            return [edge["node"]["kind"] for edge in edges]

        deadline = time.monotonic() + 20
        while "EXPIRED" not in kinds() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # both workers have looked again, several times
        assert kinds().count("EXPIRED") == 1, kinds()
    finally:
        server.stop()


def test_webhooks_go_out_once_and_in_order_from_every_worker(tmp_path):
    """CREDGRAPH_WEBHOOK_EVERY: two workers send every second; a receiver on loopback (the
    organization in development mode) gets each new assignment once, in the feed's order,
    signed with the webhook's secret."""
    env = {"CREDGRAPH_WEBHOOK_EVERY": "1s", "CREDGRAPH_WORKERS": "2"}
    server = Server(tmp_path, "--demo", "--demo-staff", "4", env=env)
    with Receiver.running() as receiver:
        try:
            server.wait_until_healthy()
            ada = credgraph("token", "ada.admin@northwind.example", data_dir=tmp_path)
            token = ada.stdout.strip()

            def data(query: str, **variables: object) -> dict:
                body = server.post(token, query, variables=variables).json()
                assert "errors" not in body, body
                return body["data"]

            data("mutation { updateOrganization(input: {developmentMode: true}) { userErrors "
                 "{ code } } }")  # fmt: skip
            made = data(
                "mutation($url: String!) { createWebhook(input: {url: $url, kinds: "
                "[CREDENTIAL_ASSIGNED]}) { secret userErrors { code } } }", url=receiver.url,
            )["createWebhook"]  # fmt: skip
            found = data("{ courses(first: 1) { edges { node { id } } } users(first: 3, role: "
                         "LEARNER) { edges { node { id } } } }")  # fmt: skip
            course = found["courses"]["edges"][0]["node"]["id"]
            learners = [e["node"]["id"] for e in found["users"]["edges"]]
            credential = data(
                'mutation($course: ID!) { createCredential(input: {name: "Webhook drill", '
                "criteria: {course: $course}, completeWithin: {amount: 30, unit: DAY}}) "
                "{ credential { id } } }", course=course,
            )["createCredential"]["credential"]["id"]  # fmt: skip
            data(
                "mutation($c: ID!, $l: [ID!]!) { assignCredential(input: {credential: $c, "
                "learners: $l}) { userErrors { code } } }", c=credential, l=learners,
            )  # fmt: skip
            deadline = time.monotonic() + 20
            while len(receiver.acknowledged) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)  # both workers have sent again, several times
        finally:
            server.stop()
    cursors = [int(e["cursor"]) for e in receiver.acknowledged]
    assert len(cursors) == 3, receiver.received
    assert cursors == sorted(set(cursors))  # once each, in order
    assert {e["learnerId"] for e in receiver.acknowledged} == set(learners)
    for delivery in receiver.received:
        fields = dict(p.split("=", 1) for p in delivery.headers["Credgraph-Signature"].split(","))
        mac = hmac.new(made["secret"].encode(), f"{fields['t']}.".encode() + delivery.body,
                       hashlib.sha256)  # fmt: skip
        assert hmac.compare_digest(fields["v1"], mac.hexdigest())
