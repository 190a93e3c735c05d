"""A completed cycle as an Open Badges 3.0 credential (a W3C Verifiable Credential 2.0 of
types `VerifiableCredential` and `OpenBadgeCredential`), signed by its organization.

What it says is the cycle's: the achievement is the credential's name, instructions, criteria
(rendered as a readable list) and image; `validFrom`/`validUntil` are the cycle's; `evidence`
names the completed courses and approved records it rests on; `credentialStatus` is its bit
in the organization's revocation list (`resolvers.status_lists`). The learner is named by a
salted SHA-256 of their email (`identifier`, `hashed: true`), never in clear: whoever holds
the credential and the email can check it, and nobody can read the email off it. The salt is
derived from the server's secret and the cycle, so the same cycle always exports the same
credential, and two cycles of one learner cannot be linked by their hashes.

Every id is a stable URN derived from what it names, so exporting twice gives the same
document; only a rotation of the organization's key changes the signature. A cycle whose
credential stopped being true (its evidence withdrawn: `store.assignments.narrowed`) exports
its next edition, under another id and status entry, and the earlier one is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from resolvers import criteria
from resolvers.contexts import CREDENTIALS_V2, OPEN_BADGES_V3, moment
from resolvers.criteria import Node
from resolvers.evidence import Source
from resolvers.links import Links
from resolvers.signing import Signer
from resolvers.status_lists import entry, revoked
from store.assignments import Assignment
from store.credentials import Credential
from store.records import Record, RecordType

CONTEXTS = (CREDENTIALS_V2, OPEN_BADGES_V3)  # in this order, as OB 3.0 requires
TYPES = ["VerifiableCredential", "OpenBadgeCredential"]


def _urn(*parts: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)).urn


def exportable(cycle: Assignment) -> bool:
    """Completed and not revoked: a revoked cycle is exported no more (what was exported
    before says so through its status entry)."""
    return cycle.completed_at is not None and cycle.valid_from is not None and not revoked(cycle)


def _evidence(source: Source, course_titles: Mapping[str, str]) -> dict[str, object]:
    """One piece of evidence, named and dated as a reader of the credential understands it
    (the records' and courses' own ids stay inside credgraph)."""
    on = source.proof.at.date().isoformat()
    if not isinstance(source.record, Record):
        course = source.enrollment.course_id if source.enrollment else ""
        return {
            "type": ["Evidence"],
            "name": course_titles.get(course, "Course"),
            "genre": "Course completion",
            "description": f"Completed {on}.",
        }
    record = source.record
    document = record.type is RecordType.CREDENTIAL_DOCUMENT
    said = [f"Issued {on}" if document else f"Completed {on}"]
    if record.provider:
        said[0] += f" by {record.provider}"
    if record.end_date:
        said.append(f"valid through {record.end_date.isoformat()}")
    return {
        "type": ["Evidence"],
        "name": record.title,
        "genre": "Credential document" if document else "Training record",
        "description": "; ".join([*said, "approved."]),
    }


@dataclass(frozen=True, slots=True)
class Subject:
    """What the credential says of who earned it and what they earned."""

    cycle: Assignment
    credential: Credential
    tree: Node
    evidence: Sequence[Source]
    course_titles: Mapping[str, str]
    learner_email: str
    organization_name: str


def identity(email: str, *, secret: str, cycle_id: str) -> dict[str, object]:
    """The learner as an OB 3.0 `IdentityObject`: `sha256$` + hex SHA-256 of the email and a
    salt (lower-cased, as emails are compared here)."""
    salt = hmac.new(secret.encode(), f"identity salt/{cycle_id}".encode(), "sha256").hexdigest()
    salt = salt[:32]
    digest = hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def open_badge(
    subject: Subject, *, links: Links, status_index: int, secret: str
) -> dict[str, object]:
    """The credential, unsigned: what the JWT's payload holds."""
    cycle, definition = subject.cycle, subject.credential
    assert cycle.completed_at is not None, "a completed cycle"
    assert cycle.valid_from is not None, "a completed cycle rests on dated evidence"
    issuer = links.issuer(cycle.org_id)
    edition = [str(cycle.edition)] if cycle.edition else []  # the first edition: the cycle's id
    achievement: dict[str, object] = {
        "id": _urn(issuer, "achievements", definition.id, str(cycle.version)),
        "type": ["Achievement"],
        "name": definition.name,
        "description": definition.instructions.strip()
        or f"Earned by meeting: {criteria.expression(subject.tree)}",
        "criteria": {"narrative": criteria.narrative(subject.tree)},
    }
    if definition.image_url:
        achievement["image"] = {"id": definition.image_url, "type": "Image"}
    document: dict[str, object] = {
        "@context": list(CONTEXTS),
        "id": _urn(issuer, "credentials", cycle.id, *edition),
        "type": TYPES,
        "name": definition.name,
        "issuer": {"id": issuer, "type": ["Profile"], "name": subject.organization_name},
        "validFrom": moment(cycle.valid_from),
        "awardedDate": moment(cycle.completed_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [identity(subject.learner_email, secret=secret, cycle_id=cycle.id)],
            "achievement": achievement,
        },
        "evidence": [_evidence(source, subject.course_titles) for source in subject.evidence],
        "credentialStatus": entry(links, cycle.org_id, status_index),
    }
    if cycle.valid_until is not None:
        document["validUntil"] = moment(cycle.valid_until)
    return document


@dataclass(frozen=True, slots=True)
class Exported:
    """A credential as handed out: the signed JWT, and the credential its payload holds."""

    jwt: str
    credential: dict[str, object]
    key_id: str


def exported(
    subject: Subject, *, links: Links, status_index: int, secret: str, signer: Signer
) -> Exported:
    """The cycle's credential, signed by its organization's current key."""
    payload = open_badge(subject, links=links, status_index=status_index, secret=secret)
    return Exported(signer.sign(payload), payload, signer.key.kid)
