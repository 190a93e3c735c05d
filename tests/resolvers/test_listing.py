"""Lists and summaries stay the same until `next_change`: what a 304 before that moment relies
on; and kept from one request to the next (`resolvers.kept`) they answer what computing them
afresh answers, whatever is written and whenever asked. Generated organizations of cycles
(chains with renewals, every status, revoked and withdrawn cycles — a revoked cycle's renewal
withdrawn with it), moments, and horizons in days, months and years (which clamp at the ends
of months)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers import kept, listing
from resolvers.cycles import timeline
from resolvers.listing import Criteria, SortField
from resolvers.periods import Period, PeriodUnit
from resolvers.status import Status
from store.assignments import Assignment, Exemption, Successor
from store.overrides import Revocation, Withdrawal
from tests.helpers import fresh_page, fresh_summary

MICROSECOND = timedelta(microseconds=1)

BASE = datetime(2027, 1, 31, 12, tzinfo=UTC)
moments = st.integers(-400 * 86_400, 400 * 86_400).map(lambda s: BASE + timedelta(seconds=s))
maybe = st.one_of(st.none(), moments)


exemptions = st.builds(
    lambda since, days, reason: Exemption(
        since, since + timedelta(days=days) if days else None, reason, "admin"
    ),
    moments,
    st.integers(0, 200),
    st.just("leave"),
)


@st.composite
def chains(draw, learner: int) -> list[Assignment]:
    cycles: list[Assignment] = []
    for cycle in range(draw(st.integers(1, 3))):
        start = draw(moments)
        previous = cycles[-1] if cycles else None
        if previous is not None:
            start = max(start, previous.start_date)
        completed = draw(maybe)
        done = completed is not None and completed >= start
        revocation = withdrawal = None
        if done and draw(st.booleans()):  # revoked, never before its completion
            revocation = Revocation(max(draw(moments), completed), "admin", "forged")
        elif not done and previous is not None and previous.revocation is not None:
            withdrawal = Withdrawal.after(previous.revocation)  # its renewal, withdrawn with it
        elif not done and draw(st.booleans()):
            withdrawal = Withdrawal(draw(moments), "admin", "changed role")
        cycles.append(
            Assignment(
                id=f"{learner:04d}{cycle}",
                org_id="o",
                credential_id="c",
                learner_id=f"l{learner}",
                version=1,
                cycle=cycle + 1,
                previous_id=previous.id if previous else None,
                assigned_at=start,
                assigned_by=None,
                start_date=start,
                due_date=start + timedelta(days=draw(st.integers(1, 120))),
                window_start=None,
                window_after=None,
                previous_valid_until=None,
                started_at=draw(maybe),
                completed_at=completed if done else None,
                valid_from=completed if done else None,
                valid_until=completed + timedelta(days=draw(st.integers(1, 800)))
                if done and draw(st.booleans())
                else None,
                exemptions=tuple(draw(st.lists(exemptions, max_size=2))),
                revocation=revocation,
                withdrawal=withdrawal,
            )
        )
    linked = []
    for i, cycle in enumerate(cycles):
        after = cycles[i + 1] if i + 1 < len(cycles) else None
        then = cycles[i + 2] if i + 2 < len(cycles) else None
        linked.append(
            cycle
            if after is None
            else Assignment(**{**_fields(cycle), "next": Successor.of(after, then)})
        )
    return linked


def _fields(cycle: Assignment) -> dict:
    return {name: getattr(cycle, name) for name in Assignment.__slots__}


organizations = st.lists(st.integers(0, 9), min_size=1, max_size=6, unique=True).flatmap(
    lambda learners: st.tuples(*(chains(n) for n in learners)).map(
        lambda found: [cycle for chain in found for cycle in chain]
    )
)
periods = st.builds(
    Period, st.integers(1, 14), st.sampled_from([PeriodUnit.DAY, PeriodUnit.MONTH, PeriodUnit.YEAR])
)


def answers(cycles: list[Assignment], at: datetime, ahead: Period) -> tuple:
    lists = [
        fresh_page(
            cycles, Criteria(as_of=at, status=status, current=current),
            order=SortField.DUE_DATE, descending=False, after=None, limit=100,
        )
        for status in (None, *Status)
        for current in (False, True)
    ]  # fmt: skip
    statuses = [timeline(cycle).status(at) for cycle in cycles]
    return fresh_summary(cycles, as_of=at, horizon=ahead.after(at)), lists, statuses


@settings(max_examples=300, deadline=None)
@given(cycles=organizations, at=moments, ahead=periods)
def test_nothing_changes_before_the_next_change(cycles, at, ahead):
    changes = listing.next_change(cycles, at, ahead=ahead)
    if changes is None:
        later = [at + timedelta(days=d) for d in (1, 400, 2000)]
    else:
        assert changes > at
        later = [changes - timedelta(microseconds=1), at + (changes - at) / 2]
    for moment in later:
        assert answers(cycles, moment, ahead) == answers(cycles, at, ahead)


@given(
    ahead=periods,
    at=moments,
    beyond=st.timedeltas(min_value=MICROSECOND, max_value=timedelta(days=100)),
)
def test_a_period_reaches_its_target_first_at_the_moment_found(ahead, at, beyond):
    target = ahead.after(at) + beyond
    found = ahead.reaching(target, after=at)
    assert found > at
    steady = ahead.steady_until(at)
    between = {at + (found - at) * k / 8 for k in range(8)} | {found - MICROSECOND}
    between = {moment for moment in between if moment < found}  # microseconds round
    assert all(ahead.after(moment) < target for moment in between), "not reached before"
    if found != steady:
        assert ahead.after(found) >= target


@given(ahead=periods, at=moments)
def test_the_end_of_a_period_only_moves_forward_until_it_may_fall_back(ahead, at):
    steady = ahead.steady_until(at)
    if steady is None:
        assert ahead.unit.value in ("DAY", "WEEK")
        steady = at + timedelta(days=120)
    moments_ = sorted({at + (steady - at) * k / 64 for k in range(64)} | {steady - MICROSECOND})
    ends = [ahead.after(moment) for moment in moments_]
    assert ends == sorted(ends)


def test_a_month_from_the_last_days_of_january_falls_back_at_midnight():
    month = Period(1, PeriodUnit.MONTH)
    late_on_the_28th = datetime(2027, 1, 28, 23, 0, tzinfo=UTC)
    assert month.steady_until(late_on_the_28th) == datetime(2027, 1, 29, tzinfo=UTC)
    assert month.after(datetime(2027, 1, 29, tzinfo=UTC)) < month.after(late_on_the_28th)


criteria_shapes = st.builds(
    dict,
    status=st.one_of(st.none(), st.sampled_from(Status)),
    current=st.booleans(),
    due_before=maybe,
    expiring_before=maybe,
)
rewrites = st.fixed_dictionaries(
    {},
    optional={
        "started_at": maybe,
        "completed_at": maybe,
        "valid_until": maybe,
        "revocation": st.one_of(
            st.none(), st.builds(Revocation, moments, st.just("a"), st.just("r"))
        ),
        "withdrawal": st.one_of(
            st.none(), st.builds(Withdrawal, moments, st.just("a"), st.just("r"))
        ),
    },
)


@settings(max_examples=200, deadline=None)
@given(
    cycles=organizations,
    ahead=periods,
    shape=criteria_shapes,
    order=st.sampled_from(SortField),
    descending=st.booleans(),
    steps=st.lists(
        st.tuples(
            st.one_of(moments, st.just(None)),  # the next request's moment (None: a second on)
            st.lists(st.tuples(st.integers(0, 30), rewrites), max_size=3),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_kept_answers_are_the_answers_computed_afresh(
    cycles, ahead, shape, order, descending, steps
):
    at = BASE
    scope = ("organization", id(cycles))
    for moment, writes in steps:
        at = moment or at + timedelta(seconds=1)
        for index, fields in writes:  # a write replaces a cycle's object, as the copy does
            position = index % len(cycles)
            cycles[position] = replace(cycles[position], **fields)
        if not writes and moment is None:
            cycles = [replace(cycle) for cycle in cycles]  # the organization read whole again
        summary, changes = kept.summary(scope, cycles, as_of=at, horizon=ahead)
        assert summary == fresh_summary(cycles, as_of=at, horizon=ahead.after(at))
        criteria = Criteria(as_of=at, **shape)
        items, total, page_changes = kept.page(
            scope, cycles, criteria, order=order, descending=descending, after=None, limit=4
        )
        fresh = fresh_page(
            cycles, criteria, order=order, descending=descending, after=None, limit=4
        )
        assert (items, total) == fresh
        if items:
            last = items[-1]
            after = listing.place(listing.SORT_KEYS[order](last), last.id)
            following = kept.page(
                scope, cycles, criteria, order=order, descending=descending, after=after, limit=3
            )
            assert following[:2] == fresh_page(
                cycles, criteria, order=order, descending=descending, after=after, limit=3
            )
        for until in (changes, page_changes):  # each holds until the moment it names
            assert until is None or until > at
        if changes is not None:
            assert (
                fresh_summary(
                    cycles, as_of=changes - MICROSECOND, horizon=ahead.after(changes - MICROSECOND)
                )
                == summary
            )
        if page_changes is not None:
            before = replace(criteria, as_of=page_changes - MICROSECOND)
            assert (
                fresh_page(cycles, before, order=order, descending=descending, after=None, limit=4)
                == fresh
            )
