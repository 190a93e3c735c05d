"""One row of a training-history CSV: its columns, its checks, and the record it becomes.

Columns (a header row names them, in any order and letter case):
- `email` (required): the learner, by their email in the organization.
- `date` (required): when the training was done (`YYYY-MM-DD`), or a document's issue date.
- `credential` and `requirement`: the requirement the record fulfils, by the credential's name
  and the requirement's title in it (a credential of one requirement needs no `requirement`).
  A course or learning-path requirement is fulfilled by additional training linked to it; a
  training-record requirement by a record of its label and type; an hours requirement by
  hours of its label.
- `label`: the record's label by name — for records no credential names (hours, or a
  training-record requirement of any credential asking for that label). One of `credential`
  or `label` is required.
- `hours`, `provider`, `title` (default: the requirement's title, else the label's name),
  `expires` (a document's end date), `document` (a URL or an external id, kept as text and
  never fetched).

Checks never read the database: the learners of a batch and the organization's labels and
credentials are looked up once (`Catalogue`) and handed in.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from resolvers import criteria
from resolvers.clock import within_range
from resolvers.criteria import RequirementKind
from resolvers.csv_reading import Parsed, not_utf8
from resolvers.errors import Code, invalid
from resolvers.spreadsheets import formula_like
from resolvers.users import normal_email
from store.credentials import Credential
from store.labels import Label
from store.records import RecordType
from store.users import User

REQUIRED = ("email", "date")
OPTIONAL = (
    "credential", "requirement", "label", "hours", "provider", "title", "expires", "document",
)  # fmt: skip
TEXT = ("email", "credential", "requirement", "label", "provider", "title", "document")
LIMITS = {"provider": 200, "title": 200, "document": 2000, "requirement": 200}
MAX_HOURS = 10_000
# As the README says, and no more: `date.fromisoformat` also reads `20230303` and `2023-W09`,
# `float` also `1_000`, `1e3` and full-width digits — each a typo or a misreading let through.
DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
DECIMAL = re.compile(r"-?\d+(\.\d+)?", re.ASCII)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _folded(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


@dataclass(frozen=True, slots=True)
class Columns:
    """Where each named column is in a row."""

    index: dict[str, int]

    @classmethod
    def of(cls, header: list[str]) -> Columns:
        """The header's columns; `MISSING_COLUMNS`, `UNKNOWN_COLUMN` or `DUPLICATE_COLUMN`
        for a header that cannot be read unambiguously (the whole file is refused)."""
        index: dict[str, int] = {}
        for i, raw in enumerate(header):
            name = _folded(raw).replace(" ", "_").replace("-", "_")
            if not name:
                continue
            if name not in REQUIRED + OPTIONAL:
                known = ", ".join(REQUIRED + OPTIONAL)
                raise invalid(
                    Code.UNKNOWN_COLUMN, f"unknown column {raw!r}; the columns are {known}", raw
                )
            if name in index:
                raise invalid(Code.DUPLICATE_COLUMN, f"the column {name} appears twice", name)
            index[name] = i
        missing = [name for name in REQUIRED if name not in index]
        if missing:
            raise invalid(
                Code.MISSING_COLUMNS, f"the header lacks {', '.join(missing)}", missing[0]
            )
        return cls(index)

    def cells(self, parsed: Parsed) -> dict[str, str]:
        """The row's cells by column, stripped; `EXTRA_CELLS` for values past the header."""
        width = max(self.index.values()) + 1
        if any(cell.strip() for cell in parsed.cells[width:]):
            raise invalid(Code.EXTRA_CELLS, "the row has more cells than the header", "row")
        padded = parsed.cells + [""] * (width - len(parsed.cells))
        return {name: padded[i].strip() for name, i in self.index.items()}


@dataclass(frozen=True, slots=True)
class Target:
    """What a row's record is for: its type and label, and the requirement it is linked to."""

    type: RecordType
    label_id: str | None
    requirement_id: str | None
    credential_id: str | None
    title: str
    needs_hours: bool = False


class Catalogue:
    """The organization's labels and credentials by name, read once per import run."""

    def __init__(self, labels: list[Label], credentials: list[Credential]) -> None:
        self.labels = {_folded(label.name): label for label in labels}
        self.credentials: dict[str, list[Credential]] = {}
        for credential in credentials:
            self.credentials.setdefault(_folded(credential.name), []).append(credential)

    def target(self, credential_name: str, requirement: str, label_name: str) -> Target:
        label = None
        if label_name:
            label = self.labels.get(_folded(label_name))
            if label is None:
                raise invalid(Code.UNKNOWN_LABEL, f"no label named {label_name!r}", "label")
        if not credential_name:
            if requirement:
                raise invalid(
                    Code.REQUIRED, "a requirement is named with its credential", "credential"
                )
            if label is None:
                raise invalid(Code.REQUIRED, "a row names a credential or a label", "credential")
            return Target(RecordType.ADDITIONAL_TRAINING, label.id, None, None, label.name)
        leaf, credential = self._leaf(credential_name, requirement)
        if leaf.kind is RequirementKind.TRAINING_RECORD:
            kind = leaf.record_type or RecordType.ADDITIONAL_TRAINING
            wanted = leaf.label_id
        else:
            kind, wanted = RecordType.ADDITIONAL_TRAINING, leaf.label_id
        if label is not None and wanted is not None and label.id != wanted:
            raise invalid(Code.RECORD_MISMATCH, "this requirement asks for another label", "label")
        return Target(
            kind,
            wanted or (label.id if label else None),
            leaf.id,
            credential.id,
            leaf.title,
            needs_hours=leaf.kind is RequirementKind.HOURS,
        )

    def _leaf(self, name: str, title: str) -> tuple[criteria.Requirement, Credential]:
        found = self.credentials.get(_folded(name), [])
        if not found:
            raise invalid(Code.UNKNOWN_CREDENTIAL, f"no credential named {name!r}", "credential")
        if len(found) > 1:
            raise invalid(Code.AMBIGUOUS, f"several credentials are named {name!r}", "credential")
        credential = found[0]
        leaves = criteria.requirements(criteria.from_doc(credential.current.criteria))
        if title:
            leaves = [leaf for leaf in leaves if _folded(leaf.title) == _folded(title)]
        if not leaves:
            raise invalid(
                Code.NOT_IN_CREDENTIAL, f"{name!r} has no requirement {title!r}", "requirement"
            )
        if len(leaves) > 1:
            what = "several requirements have this title" if title else "name the requirement"
            raise invalid(Code.AMBIGUOUS, f"{name!r}: {what}", "requirement")
        return leaves[0], credential


@dataclass(frozen=True, slots=True)
class Draft:
    """A row that passed its checks, but for its learner (looked up by batch)."""

    line: int
    email: str
    cells: dict[str, str]
    target: Target
    day: date
    expires: date | None
    hours: float | None


def checked(parsed: Parsed, columns: Columns, catalogue: Catalogue, *, today: date) -> Draft:
    """The row's draft record, or the first problem as a `DomainError` naming its column."""
    if parsed.error is not None:
        raise invalid(Code.MALFORMED_ROW, f"the row cannot be read: {parsed.error}", "row")
    if not_utf8(parsed.cells):
        raise invalid(Code.NOT_UTF8, "the row holds bytes that are not UTF-8", "row")
    cells = columns.cells(parsed)
    for name in TEXT:
        if CONTROL.search(cells.get(name, "")):
            raise invalid(Code.UNSAFE_CELL, f"{name} holds a control character", name)
        if formula_like(cells.get(name, "")):
            raise invalid(
                Code.UNSAFE_CELL,
                f"{name} begins like a spreadsheet formula (=, +, -, @)",
                name,
            )
        if len(cells.get(name, "")) > LIMITS.get(name, 320):
            raise invalid(
                Code.TOO_LONG, f"{name} has at most {LIMITS.get(name, 320)} characters", name
            )
    email = normal_email(cells["email"])
    if not email:
        raise invalid(Code.REQUIRED, "the learner's email is required", "email")
    day = _day(cells["date"], "date", required=True)
    assert day is not None
    if day > today:
        raise invalid(Code.FUTURE_DATE, "date cannot be in the future", "date")
    expires = _day(cells.get("expires", ""), "expires", required=False)
    if expires is not None and expires < day:
        raise invalid(Code.END_BEFORE_ISSUE, "expires cannot be before date", "expires")
    hours = _hours(cells.get("hours", ""))
    target = catalogue.target(
        cells.get("credential", ""), cells.get("requirement", ""), cells.get("label", "")
    )
    if target.needs_hours and hours is None:
        raise invalid(Code.REQUIRED, "an hours requirement needs hours", "hours")
    return Draft(parsed.line, email, cells, target, day, expires, hours)


def _day(text: str, field: str, *, required: bool) -> date | None:
    if not text:
        if required:
            raise invalid(Code.REQUIRED, f"{field} is required", field)
        return None
    try:
        if not DAY.fullmatch(text):
            raise ValueError(text)
        found = date.fromisoformat(text)
    except ValueError:
        raise invalid(Code.INVALID_DATE, f"{field} is a date as YYYY-MM-DD", field) from None
    return within_range(found, field=field)


def _hours(text: str) -> float | None:
    if not text:
        return None
    if not DECIMAL.fullmatch(text):
        raise invalid(Code.INVALID_NUMBER, "hours is a number such as 2 or 1.5", "hours")
    hours = float(text) + 0.0  # -0 is 0
    if not 0 <= hours <= MAX_HOURS:
        raise invalid(Code.OUT_OF_RANGE, f"hours is between 0 and {MAX_HOURS}", "hours")
    return hours


def record_doc(
    draft: Draft,
    learner: User,
    *,
    org_id: str,
    import_id: str,
    submitted_by: str,
    approved: bool,
    now: datetime,
) -> dict[str, Any]:
    """The record a row becomes, keyed by what it says (`import_key`)."""
    target, cells = draft.target, draft.cells
    document = target.type is RecordType.CREDENTIAL_DOCUMENT
    doc: dict[str, Any] = {
        "orgId": org_id,
        "learnerId": learner.id,
        "type": target.type.value,
        "title": " ".join(cells.get("title", "").split()) or target.title,
        "labelId": target.label_id,
        "provider": cells.get("provider") or None,
        "clockHours": draft.hours,
        "description": None,
        "lessonStatus": None,
        "completedAt": None if document else datetime.combine(draft.day, time(), UTC),
        "issueDate": draft.day if document else None,
        "endDate": draft.expires,
        "document": None,
        "documentReference": cells.get("document") or None,
        "status": "APPROVED" if approved else "PENDING",
        "submittedBy": submitted_by,
        "submittedAt": now,
        "reviewedBy": submitted_by if approved else None,
        "reviewedAt": now if approved else None,
        "reviewNote": None,
        "assignmentId": None,
        "credentialId": target.credential_id,
        "requirementId": target.requirement_id,
        "previousId": None,
        "importId": import_id,
        "importLine": draft.line,
    }
    return {**doc, "importKey": import_key(doc)}


def import_key(doc: dict[str, Any]) -> str:
    """The same row in any file — the same learner, requirement, dates, hours and text — has
    the same key in its organization, whoever imports it and whenever."""
    said = {
        k: doc[k]
        for k in (
            "orgId", "learnerId", "type", "title", "labelId", "provider", "clockHours",
            "completedAt", "issueDate", "endDate", "documentReference", "requirementId",
        )
    }  # fmt: skip
    return hashlib.sha256(json.dumps(said, sort_keys=True, default=str).encode()).hexdigest()
