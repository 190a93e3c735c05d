"""A learner's cycles of one credential, derived from their evidence as a whole.

Pure: given the chain as stored, the credential and everything the learner has done, `derive`
answers what the chain should be now. Re-deriving from all the evidence on every event — not
patching the stored answer with the newest piece — is what makes the answers the same
whatever order the evidence arrived in:

- an open cycle completes when its criteria are met by evidence in its window that is still
  valid then; `completedAt` is that moment (never before the cycle's start) and never moves;
- a completed cycle's `validFrom`/`validUntil` follow the best evidence in its window, so an
  approval that arrives later, or a better alternative, extends it;
- with `reassignOnCompletion`, completing a cycle opens the next one; while that renewal is
  open it is rescheduled from the cycle it renews whenever that cycle's validity changes (and
  once completed, its due date still never falls before that validity's end);
- each cycle knows the start and window edge of the one after it (`next`), so lists and counts
  (`resolvers.listing.is_current`) can tell which cycle is current and whose evidence is whose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from resolvers.cycles import Facts, Policy, scheduled
from resolvers.evidence import Bound, CourseHours, RecordFacts
from store.assignments import Assignment, Successor
from store.credentials import Credential
from store.enrollments import Enrollment


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
        policy = Policy.of(credential, cycle.version)
        if cycle.renews and previous is not None and previous.completed_at is not None:
            if cycle.completed_at is None:
                cycle = scheduled(cycle, previous, policy)
            elif previous.valid_until is not None and cycle.due_date < previous.valid_until:
                # evidence that arrived late extended the cycle this one renewed
                cycle = replace(cycle, due_date=previous.valid_until)
        if following is not None and not _follows(following):
            # A next cycle fixed in place (completed, or assigned by a person): its window's
            # edge is where this one's ends.
            edge = Bound(following.window_start, following.window_after)
            assessment = facts.assess(cycle, policy, edge)
        elif following is not None or credential.reassign_on_completion:
            # A renewal that follows this cycle, or will: the evidence is shared by date.
            number = following.version if following else credential.current.number
            renewal = Policy.of(credential, number).complete_within
            assessment = facts.split(cycle, policy, renewal)
        else:
            assessment = facts.assess(cycle, policy, None)
        evaluation = assessment.evaluation
        cycle = replace(cycle, started_at=assessment.started_at(cycle.start_date))
        if cycle.completed_at is not None:
            if evaluation.satisfied:
                cycle = replace(
                    cycle, valid_from=evaluation.valid_from, valid_until=evaluation.valid_until
                )
        elif evaluation.satisfied:
            cycle = replace(
                cycle,
                completed_at=max(now, cycle.start_date),
                valid_from=evaluation.valid_from,
                valid_until=evaluation.valid_until,
            )
            if following is None and _renews(credential, cycle):
                cycles.append(_renewal(cycle, credential, now))
        cycles[i] = cycle
        i += 1
    return [
        replace(cycle, next=Successor.of(cycles[i + 1]) if i + 1 < len(cycles) else None)
        for i, cycle in enumerate(cycles)
    ]


def _follows(cycle: Assignment) -> bool:
    """An open renewal: scheduled from the cycle before it, so it moves with that cycle."""
    return cycle.renews and cycle.completed_at is None


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
