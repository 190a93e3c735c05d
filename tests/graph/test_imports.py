"""CSV imports of training history: rows applied once, bad rows reported, who may import."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from resolvers import imports
from store import records
from store.errors import Unavailable
from tests.conftest import START
from tests.helpers import ASSIGNMENT, assign, course, credential, follow, gid, label, ok, person
from tests.imports import CREATE_TOKEN, IMPORT, csv_bytes, finished, imported, upload

HEADER = "email,credential,requirement,date,hours,provider,title,expires,document"
AUDIT = """
query($subject: ID!) { auditLog(subject: $subject) { edges { node { action actor { email } } } } }
"""
RECORDS = """
query { trainingRecords(first: 100) {
  totalCount edges { node { title status completedAt issueDate endDate clockHours provider
                            documentReference type label { name } } }
} }"""


async def cpr(api, org) -> dict:
    bls = await label(api, org, "BLS")
    online = await course(api, org, "CPR Online Course")
    card = {"label": bls, "recordType": "CREDENTIAL_DOCUMENT", "title": "BLS card"}
    criteria = {"all": [{"course": online}, {"trainingRecord": card}]}
    cred = await credential(api, org, "CPR Certification", criteria)
    (a,) = await assign(api, org, cred["id"], [org.learner])
    return {"credential": cred, "assignment": a["id"]}


async def test_an_administrators_import_completes_credentials_from_history(api, http, org):
    made = await cpr(api, org)
    admin = org.token(org.admin)
    body = csv_bytes(
        HEADER,
        f"{org.learner.email},CPR Certification,CPR Online Course,2026-01-15,4,Red Cross,,,",
        f"{org.learner.email.upper()},cpr certification,BLS Card,2026-01-10,,AHA,BLS,2027-12-31,"
        "https://files.example/bls/17",
    )
    shown = await imported(http, admin, body, filename="history.csv")
    assert shown["status"] == "DONE", shown
    assert (shown["rowsRead"], shown["applied"], shown["duplicates"], shown["failed"]) == (
        2,
        2,
        0,
        0,
    )
    assert shown["filename"] == "history.csv"
    cycle = (await api.data(ASSIGNMENT, {"id": made["assignment"]}, token=admin))["node"]
    assert cycle["status"] == "COMPLETED"
    assert cycle["validFrom"].startswith("2026-01-15")  # the freshest evidence it rests on
    found = (await api.data(RECORDS, token=admin))["trainingRecords"]["edges"]
    by_title = {e["node"]["title"]: e["node"] for e in found}
    assert by_title["CPR Online Course"]["status"] == "APPROVED"
    assert by_title["CPR Online Course"]["completedAt"].startswith("2026-01-15")
    assert by_title["CPR Online Course"]["clockHours"] == 4.0
    assert by_title["BLS"]["type"] == "CREDENTIAL_DOCUMENT"
    assert (by_title["BLS"]["issueDate"], by_title["BLS"]["endDate"]) == (
        "2026-01-10",
        "2027-12-31",
    )
    assert by_title["BLS"]["documentReference"] == "https://files.example/bls/17"
    assert by_title["BLS"]["label"] == {"name": "BLS"}
    events = (await api.data(AUDIT, {"subject": shown["id"]}, token=admin))["auditLog"]["edges"]
    assert [e["node"]["action"] for e in events] == ["IMPORT_TRAINING_RECORDS"]


async def test_uploading_the_same_file_again_applies_nothing_twice(api, http, org, db):
    await cpr(api, org)
    admin = org.token(org.admin)
    rows = [
        f"{org.learner.email},CPR Certification,CPR Online Course,2026-01-{d:02},1,,,,"
        for d in range(1, 21)
    ]
    body = csv_bytes(HEADER, *rows, rows[0])  # the last row repeats the first
    first = await imported(http, admin, body)
    assert (first["applied"], first["duplicates"], first["failed"]) == (20, 1, 0)
    stored = await db.db.records.count_documents({})
    again = await imported(http, admin, body)
    assert (again["rowsRead"], again["applied"], again["duplicates"]) == (21, 0, 21)
    assert await db.db.records.count_documents({}) == stored
    shown = (await api.data(IMPORT, {"id": again["id"]}, token=admin))["node"]
    assert shown["rows"]["totalCount"] == 21
    assert {e["node"]["outcome"] for e in shown["rows"]["edges"]} == {"DUPLICATE"}
    assert shown["rows"]["edges"][0]["node"]["record"]["title"] == "CPR Online Course"


async def test_bad_rows_are_reported_with_codes_and_the_rest_applied(api, http, org, db):
    await cpr(api, org)
    admin = org.token(org.admin)
    lee = org.learner.email
    future = (START.date().replace(year=START.year + 1)).isoformat()
    lines = [
        HEADER,  # line 1
        f"{lee},CPR Certification,CPR Online Course,2026-01-15,1,,,,",  # 2: applied
        "nobody@acmehealth.test,CPR Certification,CPR Online Course,2026-01-15,,,,,",  # 3
        f"{lee},CPR Certification,CPR Online Course,15/01/2026,,,,,",  # 4
        f"{lee},CPR Certification,CPR Online Course,{future},,,,,",  # 5
        f"{lee},Forklift Licence,,2026-01-15,,,,,",  # 6
        f"{lee},CPR Certification,CPR Online Course,2026-01-15,-2,,,,",  # 7
        f"{lee},CPR Certification,CPR Online Course,2026-01-15,,=HYPERLINK(1),,,",  # 8
        f"{lee},CPR Certification,Juggling,2026-01-15,,,,,",  # 9
        f"{lee},CPR Certification,,2026-01-15,,,,,",  # 10: two requirements
        f"{lee},,,2026-01-15,,,,,",  # 11: neither credential nor label
        f"{lee},CPR Certification,CPR Online Course,2026-01-15,lots,,,,",  # 12
        f"{lee},CPR Certification,BLS card,2026-01-15,,,,2025-01-01,",  # 13
        f"{lee},CPR Certification,CPR Online Course,2026-01-14,,,,,,,surplus",  # 14
        f"{lee},CPR Certification,CPR Online Course,20260115,,,,,",  # 15: ISO, not as documented
        f"{lee},CPR Certification,CPR Online Course,2026-W03,,,,,",  # 16: a week
        f"{lee},CPR Certification,CPR Online Course,2026-01-15,1_000,,,,",  # 17: a typo
        f"{lee},CPR Certification,CPR Online Course,2026-01-15,1e3,,,,",  # 18
        f"{lee},CPR Certification,CPR Online Course,2026-01-15,1,Red\x00Cross,,,",  # 19
    ]
    body = csv_bytes(
        *lines
    ) + f"{lee},CPR Certification,CPR Online Course,2026-01-13,,Caf\xe9,,,\r\n".encode("latin-1")
    shown = await imported(http, admin, body)
    assert shown["status"] == "DONE"
    assert (shown["rowsRead"], shown["applied"], shown["failed"]) == (19, 1, 18)
    found = (await api.data(IMPORT, {"id": shown["id"]}, token=admin))["node"]["rows"]
    codes = {e["node"]["line"]: e["node"]["code"] for e in found["edges"]}
    assert codes == {
        3: "UNKNOWN_LEARNER", 4: "INVALID_DATE", 5: "FUTURE_DATE", 6: "UNKNOWN_CREDENTIAL",
        7: "OUT_OF_RANGE", 8: "UNSAFE_CELL", 9: "NOT_IN_CREDENTIAL", 10: "AMBIGUOUS",
        11: "REQUIRED", 12: "INVALID_NUMBER", 13: "END_BEFORE_ISSUE", 14: "EXTRA_CELLS",
        15: "INVALID_DATE", 16: "INVALID_DATE", 17: "INVALID_NUMBER", 18: "INVALID_NUMBER",
        19: "UNSAFE_CELL", 20: "NOT_UTF8",
    }  # fmt: skip
    assert all(e["node"]["outcome"] == "ERROR" and e["node"]["message"] for e in found["edges"])
    assert await db.db.records.count_documents({"importId": {"$exists": True}}) == 1


async def test_a_file_that_cannot_be_read_fails_whole(api, http, org, db, monkeypatch):
    await cpr(api, org)
    admin = org.token(org.admin)
    cases = {
        b"email,credential\r\nlee@acmehealth.test,CPR\r\n": "MISSING_COLUMNS",
        b"email,date,colour\r\n": "UNKNOWN_COLUMN",
        b"email,date,Email\r\n": "DUPLICATE_COLUMN",
        b"\r\n": "EMPTY_FILE",
        "email,date\r\nlee@acmehealth.test,2026-01-01\r\n".encode("utf-16"): "NOT_UTF8",
        b'email,date,title\r\nlee@x.test,2026-01-01,"open\r\n' + b"x" * 70_000: "ROW_TOO_LONG",
    }  # fmt: skip
    for body, code in cases.items():
        shown = await imported(http, admin, body)
        assert (shown["status"], shown["error"]["code"]) == ("FAILED", code), body[:40]
    empty = await upload(http, admin, b"")
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["extensions"]["code"] == "EMPTY_FILE"
    form = await upload(http, admin, b"x", content_type="multipart/form-data; boundary=x")
    assert form.status_code == 415
    monkeypatch.setattr(imports, "MAX_FILE", 1_000)
    big = await upload(http, admin, csv_bytes(HEADER, *["x" * 100] * 20))
    assert big.status_code == 413
    assert big.json()["errors"][0]["extensions"]["code"] == "FILE_TOO_LARGE"
    files = await db.db["documents.files"].count_documents({"filename": "import.csv"})
    assert files == len(cases)  # the refused uploads left nothing behind
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    rows = [
        f"{org.learner.email},CPR Certification,CPR Online Course,2026-01-0{d},,,,,"
        for d in range(1, 6)
    ]
    capped = await imported(http, admin, csv_bytes(HEADER, *rows))
    assert (capped["status"], capped["error"]["code"], capped["applied"]) == (
        "FAILED",
        "TOO_MANY_ROWS",
        3,
    )


async def test_an_import_costs_round_trips_per_batch_not_per_row(
    api, http, org, commands, monkeypatch
):
    await cpr(api, org)
    admin = org.token(org.admin)
    monkeypatch.setattr(imports, "BATCH", 10)

    async def costs(rows: int, month: int) -> list[tuple[str, str]]:
        lines = [
            f"{org.learner.email},CPR Certification,CPR Online Course,2025-{month:02}-{d:02},,,,,"
            for d in range(1, rows + 1)
        ]
        commands.targets.clear()
        shown = await imported(http, admin, csv_bytes(HEADER, *lines))
        assert shown["applied"] == rows
        return [t for t in commands.targets if t[1] in ("records", "imports", "importRows")]

    one = await costs(10, 1)
    three = await costs(30, 3)
    inserts = [t for t in three if t == ("insert", "records")]
    assert len(inserts) == 3  # one insert_many a batch
    # the import's own work, less the polls of its progress (a `find` of imports each)
    work = [t for t in three if t != ("find", "imports")]
    assert len(work) <= 3 * len([t for t in one if t != ("find", "imports")]), three


async def test_administrators_and_records_write_tokens_import_nobody_else(
    api, db, http, org, foreign_org
):
    await cpr(api, org)
    admin = org.token(org.admin)
    body = csv_bytes(
        HEADER, f"{org.learner.email},CPR Certification,CPR Online Course,2026-01-15,,,,,"
    )
    tokens = {}
    for scope in ("READ", "COURSE_PLAYER", "RECORDS_WRITE"):
        tokens[scope] = (await ok(api, CREATE_TOKEN, {"scopes": [scope]}, admin, "createApiToken"))[
            "secret"
        ]
    _, manager = await person(api, db, org, "maya@acmehealth.test")
    assert (await upload(http, None, body)).status_code == 401
    for token in (org.token(org.learner), manager, tokens["READ"], tokens["COURSE_PLAYER"]):
        refused = await upload(http, token, body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await db.db.imports.count_documents({}) == 0
    shown = await imported(http, tokens["RECORDS_WRITE"], body)
    assert (shown["status"], shown["applied"]) == ("DONE", 1)
    record = await db.db.records.find_one({"importId": {"$exists": True}})
    assert record["status"] == "PENDING"  # an integration's records wait for review
    # its progress: for the token that made it, administrators and READ; not for learners
    for token, status in ((admin, 200), (tokens["READ"], 200), (org.token(org.learner), 404),
                          (tokens["COURSE_PLAYER"], 404)):  # fmt: skip
        seen = await http.get(
            f"/imports/{shown['id']}", headers={"Authorization": f"Bearer {token}"}
        )
        assert seen.status_code == status, (token, seen.text)
    stranger = foreign_org.token(foreign_org.admin)
    seen = await http.get(
        f"/imports/{shown['id']}", headers={"Authorization": f"Bearer {stranger}"}
    )
    assert seen.status_code == 404  # another organization's administrator
    node = await api.call(IMPORT, {"id": shown["id"]}, token=org.token(org.learner))
    assert node["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await api.data(IMPORT, {"id": shown["id"]}, token=admin))["node"]["createdBy"] is None
    # the row again, from an administrator: not applied twice, and said plainly why it still
    # does not count, with the record to review — as the token that made it sees it too
    again = await imported(http, admin, body)
    (row,) = again["rows"]
    assert (row["outcome"], row["record"]) == ("DUPLICATE", gid("TrainingRecord", record["_id"]))
    assert "PENDING" in row["message"]


async def test_imported_history_reaches_the_feed_once(api, http, org):
    """Each applied row is told as a record submitted and approved, the cycle it completes as
    completed; the same file uploaded again tells nothing more."""
    made = await cpr(api, org)
    admin = org.token(org.admin)
    _, cursor = await follow(api, admin)
    body = csv_bytes(
        HEADER,
        f"{org.learner.email},CPR Certification,CPR Online Course,2026-01-15,4,,,,",
        f"{org.learner.email},CPR Certification,BLS Card,2026-01-10,,AHA,BLS,2027-12-31,",
        "nobody@acmehealth.test,CPR Certification,CPR Online Course,2026-01-15,4,,,,",
    )
    shown = await imported(http, admin, body)
    assert (shown["applied"], shown["failed"]) == (2, 1)
    told, cursor = await follow(api, admin, cursor)
    kinds = sorted((e["kind"], e["subject"]["__typename"]) for e in told)
    assert kinds == [
        ("CREDENTIAL_COMPLETED", "CredentialAssignment"),
        *[("RECORD_APPROVED", "TrainingRecord")] * 2,
        *[("RECORD_SUBMITTED", "TrainingRecord")] * 2,
    ]
    assert (
        next(e for e in told if e["kind"] == "CREDENTIAL_COMPLETED")["subjectId"]
        == (made["assignment"])
    )
    again = await imported(http, admin, body)
    assert (again["applied"], again["duplicates"]) == (0, 2)
    assert (await follow(api, admin, cursor))[0] == []


async def test_a_file_that_stops_arriving_is_cut_off_and_nothing_kept(org, db, start_app):
    """An importer's connection that goes quiet is not held open: 408 once the body is late —
    the server's body timeout, plus a second for each 64 KiB announced — and no file, no
    import, no row is left of it."""

    async def stalled() -> AsyncIterator[bytes]:
        yield csv_bytes(HEADER)
        await asyncio.sleep(30)
        yield b""

    async with start_app(body_timeout=0.3) as started:
        began = asyncio.get_running_loop().time()
        late = await upload(started.http, org.token(org.admin), stalled())
        took = asyncio.get_running_loop().time() - began
    assert late.status_code == 408
    assert late.json()["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert took < 10
    assert await db.db.imports.count_documents({}) == 0
    assert await db.db["documents.files"].count_documents({}) == 0
    assert await db.db["documents.chunks"].count_documents({}) == 0


async def test_a_batch_that_never_gets_through_fails_the_import_rather_than_loop(
    api, http, org, db, app, monkeypatch
):
    """Taken over again and again with no batch written — the database never answering it in
    time — the import ends FAILED, saying why and what to do, instead of retrying for ever."""
    await cpr(api, org)

    async def unanswered(*args, **kwargs):
        raise Unavailable("the database did not answer in time")

    monkeypatch.setattr(records, "insert_imported", unanswered)
    body = csv_bytes(
        HEADER, f"{org.learner.email},CPR Certification,CPR Online Course,2026-01-15,,,,,"
    )
    started = await upload(http, org.token(org.admin), body)
    runs = app.state.imports
    for _ in range(imports.MAX_STALLS + 1):
        await asyncio.gather(*runs.tasks.values())
        stuck = await db.db.imports.find_one({})
        assert stuck["status"] == "RUNNING"
        await db.db.imports.update_one({}, {"$set": {"leaseUntil": None}})  # the lease lapses
        await runs.resume()
    await asyncio.gather(*runs.tasks.values())
    shown = await finished(http, org.token(org.admin), started.json()["id"])
    assert (shown["status"], shown["error"]["code"]) == ("FAILED", "SERVICE_UNAVAILABLE")
    assert f"taken over {imports.MAX_STALLS} times" in shown["error"]["message"]
    assert "upload the file again" in shown["error"]["message"]


async def test_history_older_than_the_window_does_not_start_a_cycle(api, http, org):
    """Imported history counts by when the training was done: a course of 2020 is no step
    toward a two-year credential assigned now (it neither completes nor starts the cycle)."""
    online = await course(api, org, "CPR Online Course")
    cred = await credential(
        api, org, "CPR Certification", {"course": online}, validFor={"amount": 2, "unit": "YEAR"}
    )
    (cycle,) = await assign(api, org, cred["id"], [org.learner])
    admin = org.token(org.admin)
    row = f"{org.learner.email},CPR Certification,CPR Online Course,2020-03-01,2,,,,"
    assert (await imported(http, admin, csv_bytes(HEADER, row)))["applied"] == 1
    node = (await api.data(ASSIGNMENT, {"id": cycle["id"]}, token=admin))["node"]
    assert node["status"] == "NOT_STARTED"
