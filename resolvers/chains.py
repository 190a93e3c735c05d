"""A learner's cycles of one credential, derived from their evidence as a whole.

Pure: given the chain as stored, the credential and everything the learner has done, `derive`
answers what the chain should be now. Re-deriving from all the evidence on every event — not
patching the stored answer with the newest piece — is what makes the answers the same
whatever order the evidence arrived in:

- an open cycle completes when its criteria are met by evidence in its window that is still
  valid then; `completedAt` is that moment (never before the cycle's start), and evidence
  arriving never moves it;
- an administrator's certification is evidence of the date it attests: the cycle completes
  then (never before its start), valid from that date for its version's validity, and is held
  like any completion afterwards;
- a completed cycle's `validFrom`/`validUntil` follow the best evidence in its window or its
  certification, so an approval that arrives later, or a better alternative, extends it;
- evidence leaving is the one way a completion is withdrawn: when a record's approval is
  revoked and what remains (with the certification, if any) no longer satisfies a completed
  cycle that it satisfied with the record, the cycle is revoked from that revocation's moment
  (`Revocation.record_id`), as `revokeAssignment` would have; while what remains satisfies it,
  it stays completed at the same `completedAt`, its validity following what remains;
- a revoked or withdrawn cycle is fixed: nothing derived changes it again; an open renewal
  that a revoked completion opened is withdrawn with it, so the revoked cycle stays the
  learner's current one (`REVOKED`) until someone assigns the credential again;
- with `reassignOnCompletion`, completing a cycle opens the next one; while that renewal is
  open it is rescheduled from the cycle it renews whenever that cycle's validity changes (and
  once completed, its due date still never falls before that validity's end);
- each cycle knows the start and window edge of the one after it, and its withdrawal (`next`,
  `store.assignments.Successor`), so lists and counts
  (`resolvers.listing.is_current`) can tell which cycle is current and whose evidence is whose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from resolvers.cycles import Assessment, Facts, Policy, scheduled
from resolvers.evidence import AS_APPROVED, Bound, CourseHours, RecordFacts
from store.assignments import Assignment, Successor
from store.credentials import Credential
from store.enrollments import Enrollment
from store.overrides import Certification, Revocation, Withdrawal

Earned = tuple[datetime, datetime | None]  # (validFrom, validUntil)


def derive(
    chain: Sequence[Assignment],
    credential: Credential,
    *,
    enrollments: Sequence[Enrollment],
    records: Sequence[RecordFacts],
    paths: Mapping[str, Sequence[str]],
    now: datetime,
    courses: Mapping[str, CourseHours] | None = None,
) -> list[Assignment]:
    """The chain as its evidence makes it: the stored cycles (changed where they must be) in
    cycle order, and the renewal a completion opens, if any."""
    facts = Facts(enrollments, records, paths, now, courses or {})
    cycles = sorted(chain, key=lambda a: a.cycle)
    i = 0
    while i < len(cycles):  # the list grows when a completion opens a renewal
        cycle = cycles[i]
        previous = cycles[i - 1] if i else None
        following = cycles[i + 1] if i + 1 < len(cycles) else None
        if cycle.fixed:
            i += 1
            continue
        policy = Policy.of(credential, cycle.version)
        if (
            cycle.renews
            and previous is not None
            and previous.completed_at is None
            and previous.withdrawal is not None
            and cycle.completed_at is None
        ):
            # stored ahead of a completion that never stood: the cycle it renews was
            # unassigned meanwhile (a race), and the renewal goes with it
            cycles[i] = replace(cycle, withdrawal=replace(previous.withdrawal, revoked=False))
            i += 1
            continue
        if cycle.renews and previous is not None and previous.completed_at is not None:
            if previous.revocation is not None and cycle.completed_at is None:
                cycles[i] = replace(cycle, withdrawal=Withdrawal.after(previous.revocation))
                i += 1
                continue
            if cycle.completed_at is None:
                cycle = scheduled(cycle, previous, policy)
            elif previous.valid_until is not None and cycle.due_date < previous.valid_until:
                # evidence that arrived late extended the cycle this one renewed
                cycle = replace(cycle, due_date=previous.valid_until)

        assessment = _assess(facts, cycle, policy, following, credential)
        cycle = replace(cycle, started_at=assessment.started_at(cycle.start_date))
        earned = _earned(assessment, cycle.certification, policy)
        if (completed_at := cycle.completed_at) is not None:
            if earned is not None:
                cycle = replace(cycle, valid_from=earned[0], valid_until=earned[1])
            elif _earned(
                _assess(replace(facts, counted=AS_APPROVED), cycle, policy, following, credential),
                cycle.certification,
                policy,
            ):
                cycle = replace(cycle, revocation=_revoked(completed_at, records))
        elif earned is not None:
            attested = cycle.certification.completed_at if cycle.certification else now
            cycle = replace(
                cycle,
                completed_at=max(attested, cycle.start_date),
                valid_from=earned[0],
                valid_until=earned[1],
            )
            if following is None and _renews(credential, cycle):
                cycles.append(_renewal(cycle, credential, now))
        cycles[i] = cycle
        i += 1
    return [
        replace(cycle, next=_successor(cycles, i + 1) if i + 1 < len(cycles) else None)
        for i, cycle in enumerate(cycles)
    ]


def _assess(
    facts: Facts,
    cycle: Assignment,
    policy: Policy,
    following: Assignment | None,
    credential: Credential,
) -> Assessment:
    """The cycle on its share of the evidence, which depends on the cycle after it."""
    if following is not None and not _follows(following):
        # A next cycle fixed in place (completed, assigned by a person, or withdrawn): its
        # window's edge is where this one's ends.
        return facts.assess(cycle, policy, Bound(following.window_start, following.window_after))
    if following is not None or credential.reassign_on_completion:
        # A renewal that follows this cycle, or will: the evidence is shared by date.
        number = following.version if following else credential.current.number
        return facts.split(cycle, policy, Policy.of(credential, number).complete_within)
    return facts.assess(cycle, policy, None)


def _earned(
    assessment: Assessment, certification: Certification | None, policy: Policy
) -> Earned | None:
    """The validity the cycle has earned, if any: the best of its evidence's and its
    certification's (never lapsing is best, then the latest end, then the freshest start)."""
    found: list[Earned] = []
    evaluation = assessment.evaluation
    if evaluation.satisfied and evaluation.valid_from is not None:
        found.append((evaluation.valid_from, evaluation.valid_until))
    if certification is not None:
        attested = certification.completed_at
        found.append((attested, policy.valid_for.after(attested) if policy.valid_for else None))
    return max(found, key=lambda e: (e[1] is None, e[1] or e[0], e[0]), default=None)


def _revoked(completed_at: datetime, records: Sequence[RecordFacts]) -> Revocation:
    """The revocation that withdrew a completion resting on revoked records: the latest, the
    one after which what remained no longer satisfied it (never before the completion)."""
    revoked = [(r.revocation, r.id) for r in records if r.revocation is not None]
    (latest, record_id) = max(revoked, key=lambda pair: pair[0].at)
    at = max(latest.at, completed_at)
    return Revocation(at, latest.by, latest.reason, record_id=record_id)


def _successor(cycles: Sequence[Assignment], index: int) -> Successor:
    after = cycles[index + 1] if index + 1 < len(cycles) else None
    return Successor.of(cycles[index], after)


def _follows(cycle: Assignment) -> bool:
    """An open renewal: scheduled from the cycle before it, so it moves with that cycle."""
    return cycle.renews and cycle.open


def _renews(credential: Credential, cycle: Assignment) -> bool:
    return credential.reassign_on_completion and cycle.valid_until is not None


def _renewal(renewed: Assignment, credential: Credential, now: datetime) -> Assignment:
    """The next cycle, on the credential's current version, scheduled from the one it renews."""
    version = credential.current.number
    blank = Assignment.opened(
        org_id=renewed.org_id,
        credential_id=renewed.credential_id,
        learner_id=renewed.learner_id,
        version=version,
        previous=renewed,
        assigned_at=now,
        assigned_by=None,
        start=now,
        due=now,
        window_start=None,
    )
    return scheduled(blank, renewed, Policy.of(credential, version))
