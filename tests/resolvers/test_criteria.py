from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.criteria import (
    Group,
    LeafState,
    Operator,
    Proof,
    RecordType,
    Requirement,
    RequirementKind,
    canonical,
    depth,
    evaluate,
    expression,
    from_doc,
    requirements,
    to_doc,
)
from resolvers.periods import Period, PeriodUnit

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
TWO_YEARS = Period(2, PeriodUnit.YEAR)


def course(name: str) -> Requirement:
    return Requirement(id=name, kind=RequirementKind.COURSE, title=name, course_id=f"c-{name}")


def document(name: str) -> Requirement:
    return Requirement(
        id=name,
        kind=RequirementKind.TRAINING_RECORD,
        title=name,
        label_id=f"l-{name}",
        record_type=RecordType.CREDENTIAL_DOCUMENT,
    )


def all_(*children, id="all") -> Group:
    return Group(id=id, operator=Operator.ALL, children=children)


def any_(*children, id="any") -> Group:
    return Group(id=id, operator=Operator.ANY, children=children)


def met(*days: int, cap: int | None = None) -> LeafState:
    return LeafState(
        proofs=tuple(Proof(at=T0 + d * DAY, cap=T0 + cap * DAY if cap else None) for d in days)
    )


C1, C2, C3, C4 = (course(f"Course {i}") for i in range(1, 5))
EXAMPLE = any_(all_(C1, C2, id="a"), all_(C3, C4, id="b"))


def test_expression_renders_nesting():
    assert expression(EXAMPLE) == "(Course 1 AND Course 2) OR (Course 3 AND Course 4)"
    cpr = all_(course("CPR Online"), document("BLS"))
    assert expression(any_(cpr, course("Instructor Led CPR"))) == (
        "(CPR Online AND BLS) OR Instructor Led CPR"
    )
    assert expression(all_(C1, C2)) == "Course 1 AND Course 2"
    assert expression(C1) == "Course 1"
    at_least = Group(id="n", operator=Operator.AT_LEAST, minimum=2, children=(C1, C2, C3))
    assert expression(at_least) == "AT LEAST 2 OF (Course 1, Course 2, Course 3)"


def test_requirements_and_depth():
    assert [r.id for r in requirements(EXAMPLE)] == ["Course 1", "Course 2", "Course 3", "Course 4"]
    assert depth(EXAMPLE) == 2
    assert depth(C1) == 0


def test_tree_round_trips_through_its_document():
    tree = any_(all_(C1, document("BLS"), id="a"), Group("n", Operator.AT_LEAST, (C2, C3), 1))
    assert from_doc(to_doc(tree)) == tree


def test_nothing_done_needs_the_cheapest_branch():
    result = evaluate(EXAMPLE, {}, valid_for=TWO_YEARS)
    assert not result.satisfied
    assert result.progress == 0
    assert (result.completed_requirements, result.total_requirements) == (0, 4)
    assert result.valid_from is None
    assert result.valid_until is None


def test_progress_follows_the_branch_already_started():
    result = evaluate(EXAMPLE, {"Course 3": met(1)}, valid_for=TWO_YEARS)
    assert result.progress == 0.5
    results = result.results()
    assert results["b"].progress == 0.5
    assert results["a"].progress == 0


def test_satisfied_branch_gives_validity_from_its_freshest_evidence():
    result = evaluate(EXAMPLE, {"Course 1": met(3), "Course 2": met(10)}, valid_for=TWO_YEARS)
    assert result.satisfied
    assert result.progress == 1
    assert result.valid_from == T0 + 10 * DAY
    assert result.valid_until == TWO_YEARS.after(T0 + 10 * DAY)


def test_between_alternatives_the_latest_validity_wins():
    states = {
        "Course 1": met(3),
        "Course 2": met(10),
        "Course 3": met(20),
        "Course 4": met(5),
    }
    result = evaluate(EXAMPLE, states, valid_for=TWO_YEARS)
    assert result.valid_from == T0 + 20 * DAY


def test_document_end_date_caps_validity():
    tree = all_(course("CPR"), document("BLS"))
    states = {"CPR": met(1), "BLS": met(0, cap=365)}
    result = evaluate(tree, states, valid_for=TWO_YEARS)
    assert result.valid_from == T0 + DAY
    assert result.valid_until == T0 + 365 * DAY


def test_a_capped_alternative_loses_to_an_uncapped_one():
    tree = any_(document("Licence"), course("Refresher"))
    states = {"Licence": met(30, cap=100), "Refresher": met(2)}
    result = evaluate(tree, states, valid_for=TWO_YEARS)
    assert result.valid_from == T0 + 2 * DAY
    assert result.valid_until == TWO_YEARS.after(T0 + 2 * DAY)


def test_within_a_leaf_the_best_of_several_proofs_is_used():
    tree = all_(course("CPR"), document("BLS"))
    states = {
        "CPR": met(1),
        "BLS": LeafState(proofs=(Proof(T0 + 50 * DAY, cap=T0 + 60 * DAY), Proof(T0, cap=None))),
    }
    result = evaluate(tree, states, valid_for=TWO_YEARS)
    assert result.valid_until == TWO_YEARS.after(T0 + DAY)


def test_without_validity_period_only_caps_limit():
    states = {"Course 1": met(1), "Course 2": met(2)}
    assert evaluate(all_(C1, C2), states, valid_for=None).valid_until is None
    capped = evaluate(
        all_(C1, document("D")), {"Course 1": met(1), "D": met(0, cap=9)}, valid_for=None
    )
    assert capped.valid_until == T0 + 9 * DAY


def test_at_least_uses_the_best_children():
    tree = Group(id="n", operator=Operator.AT_LEAST, minimum=2, children=(C1, C2, C3))
    partial = evaluate(
        tree, {"Course 2": met(1), "Course 3": LeafState(progress=0.5)}, valid_for=None
    )
    assert not partial.satisfied
    assert partial.progress == 0.75
    done = evaluate(
        tree, {"Course 1": met(4), "Course 3": met(9), "Course 2": met(2)}, valid_for=TWO_YEARS
    )
    assert done.satisfied
    # Any two satisfy it; the pair giving the latest validity rests on the day-9 completion.
    assert done.valid_from == T0 + 9 * DAY


def test_lapsed_proofs_do_not_meet_a_requirement():
    state = met(1, cap=300)
    assert state.lasting(TWO_YEARS, T0 + 299 * DAY).met
    assert not state.lasting(TWO_YEARS, T0 + 300 * DAY).met
    uncapped = met(1)
    assert not uncapped.lasting(TWO_YEARS, TWO_YEARS.after(T0 + DAY)).met
    assert uncapped.lasting(None, T0 + 9999 * DAY).met


def test_siblings_asking_for_the_same_thing_have_one_canonical_form():
    again = Requirement(id="other", kind=RequirementKind.COURSE, title="x", course_id=C1.course_id)
    assert canonical(again) == canonical(C1)
    assert canonical(all_(C1, C2)) == canonical(all_(C2, again, id="z"))
    assert canonical(any_(C1, C2)) != canonical(all_(C1, C2))


def test_unmet_progress_never_reaches_one():
    result = evaluate(all_(C1), {"Course 1": LeafState(progress=1.0)}, valid_for=None)
    assert not result.satisfied
    assert result.progress < 1


# --- properties ---------------------------------------------------------------------------

names = (f"r{i}" for i in itertools.count())


def leaf_strategy() -> st.SearchStrategy[Requirement]:
    return st.builds(lambda: course(next(names)))


trees = st.recursive(
    leaf_strategy(),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=4).map(
            lambda kids: Group(id=next(names), operator=Operator.ALL, children=tuple(kids))
        ),
        st.lists(children, min_size=1, max_size=4).map(
            lambda kids: Group(id=next(names), operator=Operator.ANY, children=tuple(kids))
        ),
        st.lists(children, min_size=1, max_size=4).flatmap(
            lambda kids: st.integers(1, len(kids)).map(
                lambda n: Group(
                    id=next(names), operator=Operator.AT_LEAST, minimum=n, children=tuple(kids)
                )
            )
        ),
    ),
    max_leaves=12,
)

leaf_states = st.one_of(
    st.floats(0, 1).map(lambda p: LeafState(progress=p)),
    st.lists(
        st.tuples(st.integers(0, 400), st.one_of(st.none(), st.integers(1, 1000))),
        min_size=1,
        max_size=3,
    ).map(
        lambda ps: LeafState(tuple(Proof(T0 + a * DAY, T0 + c * DAY if c else None) for a, c in ps))
    ),
)


@st.composite
def trees_with_states(draw):
    tree = draw(trees)
    states = {leaf.id: draw(leaf_states) for leaf in requirements(tree)}
    return tree, states


def reversed_tree(node):
    if isinstance(node, Requirement):
        return node
    return Group(
        node.id,
        node.operator,
        tuple(reversed_tree(c) for c in reversed(node.children)),
        node.minimum,
    )


@settings(max_examples=300, deadline=None)
@given(trees_with_states())
def test_progress_is_bounded_and_one_exactly_when_satisfied(case):
    tree, states = case
    result = evaluate(tree, states, valid_for=TWO_YEARS)
    for node in result.results().values():
        assert 0 <= node.progress <= 1
        assert (node.progress == 1) == node.satisfied


@settings(max_examples=300, deadline=None)
@given(trees_with_states())
def test_any_is_satisfied_iff_a_child_is(case):
    tree, states = case
    for node in evaluate(tree, states, valid_for=None).results().values():
        if isinstance(node.node, Group) and node.node.operator is Operator.ANY:
            assert node.satisfied == any(child.satisfied for child in node.children)


@settings(max_examples=300, deadline=None)
@given(trees_with_states())
def test_evaluation_does_not_depend_on_child_order(case):
    tree, states = case
    forward = evaluate(tree, states, valid_for=TWO_YEARS)
    backward = evaluate(reversed_tree(tree), states, valid_for=TWO_YEARS)
    assert forward.satisfied == backward.satisfied
    assert forward.progress == pytest.approx(backward.progress)
    assert forward.valid_until == backward.valid_until
    assert forward.valid_from == backward.valid_from
