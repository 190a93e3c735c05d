"""Generated histories through the real store: two learners receive the same evidence in two
orders, through the resolvers every mutation uses (assignment, courses got and completed,
records submitted, approved and declined), then perhaps the same decision (a certification, a
revocation, an unassignment of what is current now, a record's approval revoked), and must end
with the same answers.

After every event the invariants of `tests/histories.py` hold for every stored cycle; at the
end, the lists' current-cycle and status filters and the compliance summary read from the store
agree with the answers computed from each chain, and stay the same until the moment
`next_change` says they may change (what a 304 relies on).

`CREDGRAPH_HISTORY_EXAMPLES` sets the number of histories (CI runs the default).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers import assignments as assigning
from resolvers import catalogue as catalogue_resolvers
from resolvers import credentials as defining
from resolvers import criteria, enrollments, listing, overrides, records, users
from resolvers.auth import Caller
from resolvers.credentials import CredentialSpec, CriteriaSpec
from resolvers.criteria import Group, RequirementKind
from resolvers.cycles import Facts, timeline
from resolvers.documents import IncomingFile
from resolvers.errors import DomainError
from resolvers.evidence import CourseHours
from resolvers.listing import Criteria, SortField
from resolvers.periods import Period, PeriodUnit
from resolvers.records import Submission
from resolvers.status import Status
from store import assignments, credentials, scopes
from store import enrollments as enrollment_store
from store import records as record_store
from store.courses import CourseKind
from store.records import LessonStatus
from store.users import Role
from tests.helpers import PDF, fresh_page, fresh_summary
from tests.histories import (
    AS_OF,
    DAY,
    HOURS,
    NOW,
    PATHS,
    CourseDone,
    Override,
    answers,
    current,
    histories,
    invariants,
)
from tests.histories import (
    overrides as decisions,
)

EXAMPLES = int(os.environ.get("CREDGRAPH_HISTORY_EXAMPLES", "25"))
catalogues: dict[str, dict[str, str]] = {}


async def catalogue(db, org) -> dict[str, str]:
    """The courses, path and labels histories name, created once per organization."""
    if org.id not in catalogues:
        names: dict[str, str] = {}

        for name in ("BLS", "ACLS"):
            label = await catalogue_resolvers.create_label(db, org.as_admin, name=name, now=NOW)
            names[name] = label.id

        async def course(title: str, kind=CourseKind.COURSE, parts=()) -> str:
            hours = HOURS.get(title)
            made = await catalogue_resolvers.create_course(
                db,
                org.as_admin,
                title=title,
                kind=kind,
                course_ids=[names[c] for c in parts],
                clock_hours=hours.clock_hours if hours else None,
                label_id=names[hours.label_id] if hours and hours.label_id else None,
                now=NOW,
            )
            return made.id

        for title in ("C0", "C1", "C2", "C3"):
            names[title] = await course(title)
        names["P"] = await course("P", CourseKind.LEARNING_PATH, PATHS["P"])
        catalogues[org.id] = names
    return catalogues[org.id]


def spec(node, names: dict[str, str], path: str = "criteria") -> CriteriaSpec:
    if isinstance(node, Group):
        return CriteriaSpec(
            path=path,
            operator=node.operator,
            minimum=node.minimum,
            children=[spec(c, names, f"{path}[{i}]") for i, c in enumerate(node.children)],
        )
    if node.kind is RequirementKind.TRAINING_RECORD:
        return CriteriaSpec(path=path, label_id=names[node.label_id], record_type=node.record_type)
    if node.kind is RequirementKind.HOURS:
        label = names[node.label_id] if node.label_id else None
        return CriteriaSpec(path=path, hours=node.hours, label_id=label)
    if node.kind is RequirementKind.LEARNING_PATH:
        return CriteriaSpec(path=path, learning_path_id=names[node.course_id])
    return CriteriaSpec(path=path, course_id=names[node.course_id])


async def pdf() -> AsyncIterator[bytes]:
    yield PDF


class Learner:
    """One learner living a history through the resolvers."""

    def __init__(self, db, org, user, credential, names, leaf_ids) -> None:
        self.db, self.org, self.user = db, org, user
        self.credential, self.names, self.leaf_ids = credential, names, leaf_ids

    async def apply(self, event, first_cycle) -> None:
        if isinstance(event, CourseDone):
            got = await enrollments.get_course(
                self.db,
                Caller.person(self.user),
                course_id=self.names[event.course],
                assignment_id=None,
                now=NOW,
            )
            if got.completed_at is None:  # every completion is "now": a second one adds nothing
                await enrollments.report_progress(  # as the course player would
                    self.db,
                    self.org.as_admin,
                    enrollment_id=got.id,
                    progress=1,
                    completed=True,
                    now=NOW,
                )
            return
        record = event.record
        linked = record.requirement_id is not None and first_cycle.start_date <= NOW
        submission = Submission(
            type=record.type,
            learner_id=self.user.id,
            assignment_id=first_cycle.id if linked else None,
            requirement_id=self.leaf_ids[record.requirement_id] if linked else None,
            title=None if linked else "Outside training",
            label_id=self.names[record.label_id] if record.label_id else None,
            lesson_status=LessonStatus(record.lesson_status) if record.lesson_status else None,
            completed_at=record.completed_at,
            issue_date=record.issue_date,
            end_date=record.end_date,
            clock_hours=record.clock_hours,
        )
        document = IncomingFile("licence.pdf", pdf()) if record.issue_date else None
        by_admin = record.status == "APPROVED"
        submitter = self.org.as_admin if by_admin else Caller.person(self.user)
        stored = await records.submit(
            self.db, submitter, submission, document, max_document=1 << 20, now=NOW
        )
        if record.status == "DECLINED":
            await records.review(
                self.db, self.org.as_admin, stored.id, approve=False, note="Unreadable", now=NOW
            )

    async def decide(self, decision: Override) -> None:
        """The decision through `resolvers.overrides`, as its mutation makes it; a refusal
        changes nothing."""
        admin = self.org.as_admin
        try:
            if decision.kind == "revoke_record":
                mine = await record_store.for_learners(
                    self.db, org_id=self.org.id, learner_ids=[self.user.id]
                )
                approved = [r for r in mine if r.status == "APPROVED"]
                if approved:  # the same one in either order: by what it says, not its id
                    chosen = min(approved, key=_content)
                    await overrides.revoke_record(
                        self.db, admin, chosen.id, reason="forged", now=NOW
                    )
            elif decision.kind == "revoke":  # the latest earned cycle, current or not
                earned = [c for c in await self.chain() if c.completed_at and not c.fixed]
                if earned:
                    await overrides.revoke(self.db, admin, earned[-1].id, reason="x", now=NOW)
            elif (cycle := current(await self.chain(), NOW)) is not None:
                if decision.kind == "certify":
                    await overrides.certify(
                        self.db, admin, cycle.id, completed_at=NOW - decision.days * DAY,
                        reason="paper", now=NOW,
                    )  # fmt: skip
                else:
                    await overrides.unassign(self.db, admin, cycle.id, reason="moved", now=NOW)
        except DomainError:
            pass
        invariants(await self.chain(), self.credential, await self.facts())

    async def chain(self):
        return [
            a
            for a in await assignments.for_learners(
                self.db, org_id=self.org.id, learner_ids=[self.user.id]
            )
            if a.credential_id == self.credential.id
        ]

    async def facts(self) -> Facts:
        mine = [self.user.id]
        return Facts(
            await enrollment_store.for_learners(self.db, org_id=self.org.id, learner_ids=mine),
            await record_store.for_learners(self.db, org_id=self.org.id, learner_ids=mine),
            {self.names["P"]: tuple(self.names[c] for c in PATHS["P"])},
            NOW,
            {
                self.names[c]: CourseHours(
                    h.clock_hours, self.names[h.label_id] if h.label_id else None
                )
                for c, h in HOURS.items()
            },
        )


def _content(record) -> tuple:
    """What a record says, orderable: a missing value sorts before any value of its field."""
    said = (record.type, record.label_id, record.completed_at, record.issue_date,
            record.end_date, record.lesson_status, record.clock_hours,
            record.requirement_id is None)  # fmt: skip
    return tuple((value is not None, "" if value is None else value) for value in said)


async def live(db, org, history, index: int) -> tuple[list[Learner], object]:
    credential_def, start, events, order = history
    names = await catalogue(db, org)
    version = credential_def.current
    tree = criteria.from_doc(version.criteria)
    credential = await defining.create_credential(
        db,
        org.as_admin,
        CredentialSpec(
            name=f"History {index}",
            instructions="",
            image_url=None,
            complete_within=Period.from_doc(version.complete_within),
            valid_for=Period.from_doc(version.valid_for),
            reassign_on_completion=credential_def.reassign_on_completion,
            criteria=spec(tree, names),
        ),
        now=NOW,
    )
    (stored,) = await credentials.get_many(db, org_id=org.id, ids=[credential.id])
    created = criteria.from_doc(stored.current.criteria)
    leaf_ids = {
        ours.id: theirs.id
        for ours, theirs in zip(
            criteria.requirements(tree), criteria.requirements(created), strict=True
        )
    }
    learners = []
    for who, sequence in (("a", events), ("b", order)):
        user = await users.create_user(
            db, org.as_admin, email=f"{who}{index}@h.test", name=who, role=Role.LEARNER, now=NOW
        )
        (first,) = await assigning.assign(
            db,
            org.as_admin,
            credential_id=credential.id,
            learner_ids=[user.id],
            start_date=start,
            due_date=None,
            now=NOW,
        )
        learner = Learner(db, org, user, credential, names, leaf_ids)
        for event in sequence:
            await learner.apply(event, first)
            invariants(await learner.chain(), credential, await learner.facts())
        learners.append(learner)
    return learners, credential


histories_seen = Counter()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.one_of(histories(), histories(renewing=True)),
    decision=st.one_of(st.none(), decisions),
)
async def test_two_orders_of_one_history_agree_in_the_store(db, org, clock, history, decision):
    clock.current = NOW
    histories_seen["n"] += 1
    (a, b), credential = await live(db, org, history, histories_seen["n"])
    if decision is not None:
        for learner in (a, b):
            await learner.decide(decision)
    chains = [await a.chain(), await b.chain()]
    assert answers(chains[0]) == answers(chains[1])

    cycles = [
        c
        for c in await scopes.of_organization(db, org_id=org.id)
        if c.credential_id == credential.id
    ]
    ahead = Period(30, PeriodUnit.DAY)
    for as_of in AS_OF:
        expected: Counter[str] = Counter()
        horizon = ahead.after(as_of)
        expiring = due = 0
        people = 0
        for learner, chain in zip((a, b), chains, strict=True):
            cycle = current(chain, as_of)
            mine = await assignments.for_learners(db, org_id=org.id, learner_ids=[learner.user.id])
            where = Criteria(as_of=as_of, learner_id=learner.user.id, current=True)
            found, _ = fresh_page(
                mine, where, order=SortField.DUE_DATE, descending=False, after=None, limit=5
            )
            assert [c.id for c in found] == ([cycle.id] if cycle else [])
            if cycle is None:  # unassigned: out of the counts
                continue
            people += 1
            status = timeline(cycle).status(as_of)
            expected[status.value] += 1
            filtered = Criteria(as_of, learner.user.id, status=status, current=True)
            assert (
                fresh_page(
                    mine, filtered, order=SortField.DUE_DATE, descending=False, after=None, limit=5
                )[1]
                == 1
            )
            if status is Status.COMPLETED and cycle.valid_until and cycle.valid_until <= horizon:
                expiring += 1
            if status in (Status.NOT_STARTED, Status.IN_PROGRESS) and cycle.due_date <= horizon:
                due += 1
        summary = fresh_summary(cycles, as_of=as_of, horizon=horizon)
        assert summary.total == people
        assert {k: v for k, v in summary.by_status.items() if v} == dict(expected)
        assert (summary.expiring_soon, summary.due_soon) == (expiring, due)

        changes = listing.next_change(cycles, as_of, ahead=ahead)
        if changes is not None:  # the same answers up to the moment before
            last = changes - timedelta(microseconds=1)
            assert fresh_summary(cycles, as_of=last, horizon=ahead.after(last)) == summary
            for cycle in cycles:
                assert timeline(cycle).status(last) is timeline(cycle).status(as_of)
