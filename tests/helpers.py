"""GraphQL documents and small builders the HTTP tests share: everything goes through the API."""

from __future__ import annotations

import ast
import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import pypdf
from PIL import Image

from graph import ids
from resolvers.listing import Criteria, Place, Ranking, SortField, Summary, Tally
from store import users
from store.assignments import Assignment

CREATE_LABEL = """
mutation($input: CreateLabelInput!) {
  createLabel(input: $input) { label { id name } userErrors { field message code } }
}"""

CREATE_COURSE = """
mutation($input: CreateCourseInput!) {
  createCourse(input: $input) {
    course { id title kind clockHours courses { id title } label { name } }
    userErrors { field message code }
  }
}"""

CREDENTIAL_FRAGMENT = """
fragment CredentialFields on Credential {
  id name instructions imageUrl version reassignOnCompletion archivedAt
  completeWithin { amount unit iso8601 }
  validFor { amount unit iso8601 }
  criteriaExpression
  requirements { id kind title recordType course { id title } label { id name } }
  criteria { ...Tree }
}
fragment Leaf on Requirement { id kind title }
fragment Tree on CriteriaNode {
  ... on Requirement { ...Leaf }
  ... on CriteriaGroup { id operator minimum children {
    ... on Requirement { ...Leaf }
    ... on CriteriaGroup { id operator minimum children {
      ... on Requirement { ...Leaf }
      ... on CriteriaGroup { id operator minimum }
    } }
  } }
}"""

CREATE_CREDENTIAL = (
    """
mutation($input: CreateCredentialInput!) {
  createCredential(input: $input) {
    credential { ...CredentialFields }
    userErrors { field message code }
  }
}"""
    + CREDENTIAL_FRAGMENT
)

UPDATE_CREDENTIAL = (
    """
mutation($input: UpdateCredentialInput!) {
  updateCredential(input: $input) {
    credential { ...CredentialFields }
    userErrors { field message code }
  }
}"""
    + CREDENTIAL_FRAGMENT
)

ASSIGNMENT_FRAGMENT = """
fragment AssignmentFields on CredentialAssignment {
  id cycle assignedAt startDate dueDate canStart completedAt validFrom validUntil
  status
  expiresIn { seconds iso8601 humanized }
  credential { id name }
  learner { id email }
  previous { id cycle }
  completion { satisfied progress completedRequirements totalRequirements nextSteps { id title } }
  tasks { requirement { id title kind } state action completedAt enrollment { id status } }
}"""

ASSIGN = (
    """
mutation($input: AssignCredentialInput!) {
  assignCredential(input: $input) {
    assignments { ...AssignmentFields }
    userErrors { field message code }
  }
}"""
    + ASSIGNMENT_FRAGMENT
)

MY_CREDENTIALS = (
    """
query($status: CredentialStatus, $asOf: DateTime, $first: Int, $after: String) {
  me { credentials(status: $status, asOf: $asOf, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ...AssignmentFields } }
  } }
}"""
    + ASSIGNMENT_FRAGMENT
)

ASSIGNMENT = (
    """
query($id: ID!, $asOf: DateTime) {
  node(id: $id) { ... on CredentialAssignment {
    ...AssignmentFields
    asOf: status(asOf: $asOf)
    expiresAsOf: expiresIn(asOf: $asOf) { seconds }
  } }
}"""
    + ASSIGNMENT_FRAGMENT
)

GET_COURSE = """
mutation($input: GetCourseInput!) {
  getCourse(input: $input) {
    enrollment { id status progress launchedAt completedAt course { id title } }
    userErrors { field message code }
  }
}"""

LAUNCH = """
mutation($input: LaunchCourseInput!) {
  launchCourse(input: $input) {
    enrollment { id status launchedAt }
    userErrors { field message code }
  }
}"""

REPORT = """
mutation($input: ReportCourseProgressInput!) {
  reportCourseProgress(input: $input) {
    enrollment { id status progress completedAt }
    userErrors { field message code }
  }
}"""


PLAYERS: dict[str, str] = {}  # each test organization's course player token, by its id


def player_for(token: str) -> str:
    """The course player's token of the organization a person's token belongs to: progress
    comes from the player, not from the learner (`reportCourseProgress`)."""
    return PLAYERS[jwt.decode(token, options={"verify_signature": False})["org"]]


def gid(type_name: str, db_id: str) -> str:
    return ids.encode(type_name, db_id)


async def ok(api, document: str, variables: dict[str, Any], token: str, field: str) -> Any:
    """A mutation's payload, asserting it had no userErrors."""
    payload = (await api.data(document, variables, token=token))[field]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload


async def label(api, org, name: str) -> str:
    payload = await ok(
        api, CREATE_LABEL, {"input": {"name": name}}, org.token(org.admin), "createLabel"
    )
    return payload["label"]["id"]


async def course(api, org, title: str, **extra: Any) -> str:
    payload = await ok(
        api,
        CREATE_COURSE,
        {"input": {"title": title, **extra}},
        org.token(org.admin),
        "createCourse",
    )
    return payload["course"]["id"]


async def credential(api, org, name: str, criteria: dict, **extra: Any) -> dict:
    fields = {
        "name": name,
        "completeWithin": {"amount": 90, "unit": "DAY"},
        "validFor": {"amount": 2, "unit": "YEAR"},
        "criteria": criteria,
        **extra,
    }
    payload = await ok(
        api, CREATE_CREDENTIAL, {"input": fields}, org.token(org.admin), "createCredential"
    )
    return payload["credential"]


async def assign(api, org, credential_id: str, learners: list, **extra: Any) -> list[dict]:
    learner_ids = [gid("User", u.id) for u in learners]
    payload = await ok(
        api,
        ASSIGN,
        {"input": {"credential": credential_id, "learners": learner_ids, **extra}},
        org.token(org.admin),
        "assignCredential",
    )
    return payload["assignments"]


async def take_course(
    api, token: str, course_id: str, *, assignment: str | None = None, finish: bool = True
) -> dict:
    """Get and launch a course as the learner the token belongs to, and (by default) have the
    course player report it complete."""
    got = await ok(
        api,
        GET_COURSE,
        {"input": {"course": course_id, "assignment": assignment}},
        token,
        "getCourse",
    )
    enrollment = got["enrollment"]["id"]
    await ok(api, LAUNCH, {"input": {"enrollment": enrollment}}, token, "launchCourse")
    if not finish:
        return got["enrollment"]
    done = await ok(
        api,
        REPORT,
        {"input": {"enrollment": enrollment, "progress": 1.0, "completed": True}},
        player_for(token),
        "reportCourseProgress",
    )
    return done["enrollment"]


async def assignment(api, token: str, assignment_id: str, as_of: str | None = None) -> dict:
    return (await api.data(ASSIGNMENT, {"id": assignment_id, "asOf": as_of}, token=token))["node"]


def _pdf() -> bytes:
    """A real one-page PDF: uploads are judged by parsing them."""
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=72, height=72)
    written = io.BytesIO()
    writer.write(written)
    return written.getvalue()


def _image(kind: str) -> bytes:
    written = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(written, kind)
    return written.getvalue()


PDF, PNG, JPEG = _pdf(), _image("PNG"), _image("JPEG")


SUBMIT = """
mutation($input: SubmitTrainingRecordInput!) {
  submitTrainingRecord(input: $input) {
    record {
      id type title status submittedAt reviewedAt reviewNote issueDate endDate completedAt
      label { name } learner { email } submittedBy { email } reviewedBy { email }
      requirement { id title } assignment { id } previous { id status }
      document { filename contentType size sha256 url }
    }
    userErrors { field message code }
  }
}"""


APPROVE = """
mutation($record: ID!, $note: String) {
  approveTrainingRecord(input: {record: $record, note: $note}) {
    record { id status reviewNote reviewedBy { email } } userErrors { field code }
  }
}"""


async def cpr_setup(api, org):
    bls = await label(api, org, "BLS")
    cpr = await course(api, org, "CPR Online Course")
    cred = await credential(
        api,
        org,
        "CPR Certification",
        {
            "all": [
                {"course": cpr},
                {
                    "trainingRecord": {
                        "label": bls,
                        "recordType": "CREDENTIAL_DOCUMENT",
                        "title": "BLS card",
                    }
                },
            ]
        },
        reassignOnCompletion=True,
    )
    (a,) = await assign(api, org, cred["id"], [org.learner])
    return bls, cpr, cred, a


def document_input(**extra):
    return {"type": "CREDENTIAL_DOCUMENT", "issueDate": "2026-02-01", "document": None, **extra}


async def submit(api, token, fields, content=PDF, name="bls-card.pdf", kind="application/pdf"):
    if content is None:
        return (await api.data(SUBMIT, {"input": fields}, token=token))["submitTrainingRecord"]
    data = await api.upload(
        SUBMIT, {"input": fields}, {"variables.input.document": (name, content, kind)}, token=token
    )
    return data["submitTrainingRecord"]


# --- the round-trip and query-plan tests' documents and data ---

DEEP = """
query {
  me {
    name
    credentials(first: 100) {
      totalCount
      edges { node {
        id status canStart expiresIn { seconds } completedAt validUntil
        credential { name criteriaExpression
          requirements { title label { name } course { title } } }
        learner { email }
        previous { id }
        completion { progress nextSteps { title course { title kind courses { title } } } }
        criteria { satisfied progress node { ... on CriteriaGroup { operator } }
          children { satisfied progress node { ... on Requirement { title } }
            children { satisfied progress } } }
        tasks {
          state action completedAt
          requirement { title course { title kind courses { title } } label { name } }
          enrollment { id status course { title } }
        }
      } }
    }
    enrollments { totalCount edges { node { status course { title } } } }
  }
}
"""


async def catalogue(api, org) -> dict:
    """A label, a path of two courses and a course; the learner has done one and begun another."""
    bls = await label(api, org, "BLS")
    parts = [await course(api, org, f"Module {i}") for i in range(2)]
    path = await course(api, org, "Path", kind="LEARNING_PATH", courses=parts, label=bls)
    cpr = await course(api, org, "CPR", label=bls)
    token = org.token(org.learner)
    await take_course(api, token, cpr)
    await take_course(api, token, parts[0], finish=False)
    return {
        "any": [
            {"all": [{"course": cpr}, {"trainingRecord": {"label": bls}}]},
            {"learningPath": path},
        ]
    }


async def assign_more(api, org, criteria: dict, n: int) -> None:
    for _ in range(n):
        cred = await credential(api, org, "Credential", criteria)
        await assign(api, org, cred["id"], [org.learner])


DASHBOARD = """
{
  complianceSummary { total notStarted overdue pendingRecords }
  assignments(first: 50) {
    totalCount edges { node { status learner { name } credential { name } } }
  }
}
"""


# --- the checkout's source, for the tests that read it ---

ROOT = Path(__file__).parent.parent
PACKAGES = ("graph", "resolvers", "store")


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports (relative imports aside)."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


# --- lists and summaries computed afresh: what kept ones are checked against ---


def fresh_page(
    cycles: Iterable[Assignment],
    criteria: Criteria,
    *,
    order: SortField,
    descending: bool,
    after: Place | None,
    limit: int,
) -> tuple[list[Assignment], int]:
    ranking = Ranking.of(cycles, criteria, order)
    return ranking.page(descending=descending, after=after, limit=limit)


def fresh_summary(cycles: Iterable[Assignment], *, as_of: datetime, horizon: datetime) -> Summary:
    return Tally.of(cycles, as_of=as_of, horizon=horizon).summary


# --- groups and managers ---

MANAGER_CREATE_USER = """
mutation($email: String!, $role: Role!) {
  createUser(input: {email: $email, name: "Maya Manager", role: $role}) {
    user { id } userErrors { code }
  }
}"""
CREATE_GROUP = """
mutation($input: CreateGroupInput!) {
  createGroup(input: $input) {
    group { id name managers { email } members { totalCount edges { node { email } } } }
    userErrors { field code }
  }
}"""


async def person(api, db, org, email: str, role: str = "MANAGER") -> tuple[str, str]:
    """A new user's global id and token."""
    made = await ok(
        api, MANAGER_CREATE_USER, {"email": email, "role": role}, org.token(org.admin), "createUser"
    )
    _, db_id = ids.decode(made["user"]["id"])
    found = await users.get(db, org_id=org.id, id=db_id)
    return made["user"]["id"], org.token(found)


async def ward(api, db, org) -> tuple[str, str, str]:
    """Ward 5: managed by Maya, with Lee as its one member. Its id, Maya's id and token."""
    maya, token = await person(api, db, org, "maya@acmehealth.test")
    made = await ok(
        api,
        CREATE_GROUP,
        {"input": {"name": "Ward 5", "members": [gid("User", org.learner.id)], "managers": [maya]}},
        org.token(org.admin),
        "createGroup",
    )
    group = made["group"]
    assert group["managers"] == [{"email": "maya@acmehealth.test"}]
    assert group["members"]["edges"] == [{"node": {"email": org.learner.email}}]
    return group["id"], maya, token


# --- the lifecycle's, the audit log's and the feed's documents and readers ---

EXEMPT = """
mutation($input: ExemptAssignmentInput!) {
  exemptAssignment(input: $input) {
    assignment { id status exemptions { since until reason endedReason by { email } } }
    userErrors { field code }
  }
}"""
REMOVE = """
mutation($input: RemoveExemptionInput!) {
  removeExemption(input: $input) {
    assignment { id status exemptions { since until reason endedReason } }
    userErrors { field code }
  }
}"""
EXTEND = """
mutation($input: ExtendDueDateInput!) {
  extendDueDate(input: $input) { assignment { status dueDate } userErrors { field code } }
}"""
LOG = """
query($subject: ID, $actor: ID, $action: AuditAction, $since: DateTime, $until: DateTime,
      $first: Int, $after: String) {
  auditLog(subject: $subject, actor: $actor, action: $action, since: $since, until: $until,
           first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id at action subjectId reason actor { email } subject { __typename id }
      changes { field before after }
    } }
  }
}"""


async def log(api, token: str, **filters) -> list[dict]:
    found = await api.data(LOG, filters, token=token)
    return [edge["node"] for edge in found["auditLog"]["edges"]]


EVENTS = """
query($after: String, $first: Int, $kinds: [EventKind!]) {
  events(after: $after, first: $first, kinds: $kinds) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id cursor kind at subjectId data learner { email } credential { name }
      subject { __typename id }
    } }
  }
}"""


async def follow(api, token: str, after: str | None = None, **more) -> tuple[list[dict], str]:
    """Every event after `after`, two at a time as a consumer pages; and the last cursor."""
    seen: list[dict] = []
    while True:
        page = (await api.data(EVENTS, {"after": after, "first": 2, **more}, token=token))["events"]
        seen += [edge["node"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return seen, after


REVOKE_RECORD = """
mutation($input: RevokeTrainingRecordInput!) {
  revokeTrainingRecord(input: $input) {
    record { id status revokedAt revocationReason revokedBy { email } }
    userErrors { field code }
  }
}"""


async def licensed(api, org, *issued: str) -> tuple[str, dict, list[str]]:
    """A credential of one licence (a BLS card), and approved cards issued on these dates."""
    bls = await label(api, org, "BLS")
    cred = await credential(
        api, org, "BLS", {"trainingRecord": {"label": bls, "recordType": "CREDENTIAL_DOCUMENT"}}
    )
    (a,) = await assign(api, org, cred["id"], [org.learner])
    records = []
    for day in issued:
        made = await submit(
            api, org.token(org.admin),
            document_input(label=bls, issueDate=day, title=f"BLS card {day}",
                           learner=gid("User", org.learner.id)),
        )  # fmt: skip
        assert made["userErrors"] == []
        assert made["record"]["status"] == "APPROVED"
        records.append(made["record"]["id"])
    return a["id"], cred, records
