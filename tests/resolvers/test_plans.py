from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers import plans
from resolvers.criteria import (
    Group,
    LeafState,
    Operator,
    Proof,
    Requirement,
    RequirementKind,
    evaluate,
    requirements,
)

T0 = datetime(2026, 3, 2, tzinfo=UTC)
ids = (f"n{i}" for i in itertools.count())


def course(name: str) -> Requirement:
    return Requirement(next(ids), RequirementKind.COURSE, name, course_id=name)


def path(name: str) -> Requirement:
    return Requirement(next(ids), RequirementKind.LEARNING_PATH, name, course_id=name)


def group(operator: Operator, *children, minimum: int | None = None) -> Group:
    return Group(next(ids), operator, tuple(children), minimum)


def all_(*children) -> Group:
    return group(Operator.ALL, *children)


def any_(*children) -> Group:
    return group(Operator.ANY, *children)


def todo(*courses: str, progress: float = 0.0) -> LeafState:
    return LeafState(progress=progress, units=frozenset(f"course:{c}" for c in courses))


DONE = LeafState(proofs=(Proof(T0),), progress=1.0)


def states_for(root, done=(), paths=None, progress=None) -> dict[str, LeafState]:
    """Unit-level states: a course leaf needs its course, a path its unfinished courses."""
    paths = paths or {}
    progress = progress or {}
    found = {}
    for leaf in requirements(root):
        courses = paths.get(leaf.course_id, (leaf.course_id,))
        left = [c for c in courses if c not in done]
        found[leaf.id] = (
            DONE if not left else todo(*left, progress=progress.get(leaf.course_id, 0.0))
        )
    return found


def titles(root, states) -> list[str]:
    return [leaf.title for leaf in plans.next_steps(root, states)]


def test_nothing_done_takes_the_first_cheapest_branch():
    root = any_(all_(course("C1"), course("C2")), all_(course("C3"), course("C4")))
    assert titles(root, states_for(root)) == ["C1", "C2"]


def test_the_branch_under_way_needs_only_what_is_left():
    root = any_(all_(course("C1"), course("C2")), all_(course("C3"), course("C4")))
    assert titles(root, states_for(root, done={"C3"})) == ["C4"]


def test_among_equal_costs_progress_decides():
    root = any_(all_(course("C1"), course("C2")), all_(course("C3"), course("C4")))
    assert titles(root, states_for(root, progress={"C3": 0.4})) == ["C3", "C4"]


def test_a_course_shared_by_two_branches_is_taken_once():
    root = all_(any_(course("C2"), course("C1")), any_(course("C3"), course("C1")))
    assert titles(root, states_for(root)) == ["C1"]


def test_a_course_beats_the_path_containing_it():
    root = any_(path("P"), course("C1"))
    assert titles(root, states_for(root, paths={"P": ("C1", "C2")})) == ["C1"]


def test_a_half_done_path_costs_what_is_left():
    root = any_(path("P"), all_(course("X"), course("Y")))
    states = states_for(root, done={"C1"}, paths={"P": ("C1", "C2")})
    assert titles(root, states) == ["P"]


def test_the_same_course_twice_is_one_step():
    root = any_(all_(course("A"), course("B")), all_(course("A"), course("C")))
    assert titles(root, states_for(root)) == ["A", "B"]


def test_at_least_takes_the_cheapest_children():
    root = group(
        Operator.AT_LEAST, course("C1"), all_(course("C2"), course("C3")), course("C4"), minimum=2
    )
    assert titles(root, states_for(root)) == ["C1", "C4"]


def test_nothing_is_left_when_satisfied():
    root = any_(course("C1"), course("C2"))
    assert plans.next_steps(root, states_for(root, done={"C2"})) == ()


def test_a_pathological_tree_still_gets_a_valid_plan_within_the_budget():
    """Vertex cover on 30 vertices: exact search is out of reach, a valid plan is not."""
    edges = [(u, (u * 7 + 3) % 30) for u in range(30)] + [(u, (u + 1) % 30) for u in range(30)]
    root = all_(*(any_(course(f"V{u}"), course(f"V{v}")) for u, v in edges))
    states = states_for(root)
    search = plans._Search(root, {k: plans._Leaf.of(v) for k, v in states.items()})
    chosen = search.run()
    assert search.visits <= plans.BUDGET + search.nodes
    done = {leaf.course_id for leaf in chosen}
    assert evaluate(root, states_for(root, done=done), valid_for=None).satisfied


# --- properties: the plan is the fewest, by brute force -------------------------------------

COURSES = [f"K{i}" for i in range(6)]


def trees(depth: int = 3) -> st.SearchStrategy:
    leaf = st.sampled_from(COURSES).map(course)
    if depth == 0:
        return leaf
    kids = st.lists(trees(depth - 1), min_size=1, max_size=3)
    return st.one_of(
        leaf,
        kids.map(lambda c: all_(*c)),
        kids.map(lambda c: any_(*c)),
        kids.flatmap(
            lambda c: st.integers(1, len(c)).map(lambda n: group(Operator.AT_LEAST, *c, minimum=n))
        ),
    )


def fewest(root, done: set[str]) -> int:
    """The fewest courses to take, trying every set of them, smallest first."""
    left = [c for c in COURSES if c not in done]
    for size in range(len(left) + 1):
        for extra in itertools.combinations(left, size):
            if evaluate(root, states_for(root, done=done | set(extra)), valid_for=None).satisfied:
                return size
    raise AssertionError("every course done must satisfy any tree")


@settings(max_examples=300, deadline=None)
@given(trees(), st.sets(st.sampled_from(COURSES), max_size=3))
def test_next_steps_are_the_fewest_and_complete_the_criteria(root, done):
    states = states_for(root, done=done)
    steps = plans.next_steps(root, states)
    taken = {leaf.course_id for leaf in steps}
    assert not taken & done
    after = evaluate(root, states_for(root, done=done | taken), valid_for=None)
    assert after.satisfied
    assert len(taken) == fewest(root, done)
