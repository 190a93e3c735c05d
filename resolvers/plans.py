"""The fewest steps left: which unmet requirements would satisfy the criteria with the least work.

Work is counted in units — a course, each unfinished course of a learning path, a kind of record
— so a course shared by two branches, or contained in a path, is counted once. Choosing the
fewest units over an AND/OR tree with shared units is NP-hard in general (every vertex-cover
instance is such a tree), so the search is exact by construction and bounded in effort:

- Units that appear in one requirement only are priced exactly by a dynamic programme over the
  tree (ALL adds its children, ANY takes the cheapest, AT_LEAST n the n cheapest).
- Units shared between requirements are decided by branch and bound: each is either done (paid
  once) or not done (no requirement needing it can be chosen). The programme with undecided
  shared units free is a lower bound; each plan it proposes, priced by the units it really
  uses, is an upper bound.

The search visits at most `BUDGET` tree nodes (about 70 ms at the worst). With `s` shared units
it is complete — the plan is the fewest — whenever (2^(s+1) - 1) x nodes <= BUDGET: up to 8
shared units in a 20-node tree, 4 in a 400-node one (200 requirements in binary groups).
Beyond that pruning usually still finishes; when it does not, the best plan found is returned:
a valid plan, never worse than pricing each requirement on its own. Results are cached by tree
and state, since most learners of a credential share both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from resolvers.criteria import Group, LeafState, Node, Requirement, requirements, walk

BUDGET = 20_000  # tree node visits
INFINITE = float("inf")


@dataclass(frozen=True, slots=True)
class _Leaf:
    """What the search needs of a requirement's state (hashable, and free of dates, so that
    learners at the same point share a cached plan)."""

    met: bool
    units: frozenset[str]
    progress: float

    @classmethod
    def of(cls, state: LeafState) -> _Leaf:
        return cls(state.met, state.units, state.progress)


UNKNOWN = _Leaf(False, frozenset(), 0.0)


@dataclass(frozen=True, slots=True)
class _Priced:
    cost: float
    progress: float
    leaves: tuple[Requirement, ...] = ()


class _Search:
    def __init__(self, root: Node, states: Mapping[str, _Leaf]) -> None:
        self.root = root
        self.states = states
        self.unmet = [leaf for leaf in requirements(root) if not states.get(leaf.id, UNKNOWN).met]
        uses: dict[str, int] = {}
        for leaf in self.unmet:
            for unit in self._units(leaf):
                uses[unit] = uses.get(unit, 0) + 1
        self.shared = sorted((u for u, n in uses.items() if n > 1), key=lambda u: (-uses[u], u))
        self.shared_set = frozenset(self.shared)
        self.nodes = sum(1 for _ in walk(root))
        self.visits = 0
        self.best: tuple[float, float, tuple[Requirement, ...]] = (INFINITE, 0.0, ())

    def _units(self, leaf: Requirement) -> frozenset[str]:
        return self.states.get(leaf.id, UNKNOWN).units or frozenset({leaf.id})

    def _price(self, node: Node, done: frozenset[str], barred: frozenset[str]) -> _Priced:
        """Cheapest way to satisfy `node`, with shared units in `done` free, in `barred`
        unavailable, and the undecided ones free (the optimistic bound)."""
        if isinstance(node, Requirement):
            state = self.states.get(node.id, UNKNOWN)
            if state.met:
                return _Priced(0, 1.0)
            units = self._units(node)
            if units & barred:
                return _Priced(INFINITE, state.progress)
            own = sum(1 for u in units if u not in done and u not in self.shared_set)
            return _Priced(own, state.progress, (node,))
        assert isinstance(node, Group)
        children = [self._price(child, done, barred) for child in node.children]
        order = sorted(
            range(len(children)), key=lambda i: (children[i].cost, -children[i].progress)
        )
        chosen = sorted(order[: node.needed])  # the tree's own order among the chosen
        return _Priced(
            sum(children[i].cost for i in chosen),
            sum(children[i].progress for i in chosen),
            tuple(leaf for i in chosen for leaf in children[i].leaves),
        )

    def _true_cost(self, leaves: tuple[Requirement, ...]) -> int:
        return len(frozenset().union(*(self._units(leaf) for leaf in leaves)))

    def run(self) -> tuple[Requirement, ...]:
        self._branch(0, frozenset(), frozenset())
        return self.best[2]

    def _branch(self, index: int, done: frozenset[str], barred: frozenset[str]) -> None:
        if self.visits + self.nodes > BUDGET and self.best[0] < INFINITE:
            return
        self.visits += self.nodes
        priced = self._price(self.root, done, barred)
        bound = priced.cost + len(done)
        if bound > self.best[0] or priced.cost == INFINITE:
            return
        cost = self._true_cost(priced.leaves)
        if (cost, -priced.progress) < (self.best[0], -self.best[1]):
            self.best = (cost, priced.progress, priced.leaves)
        if index == len(self.shared) or bound >= self.best[0]:
            return
        unit = self.shared[index]
        self._branch(index + 1, done | {unit}, barred)
        self._branch(index + 1, done, barred | {unit})


def next_steps(root: Node, states: Mapping[str, LeafState]) -> tuple[Requirement, ...]:
    """The fewest unmet requirements whose completion satisfies `root`, in the tree's order,
    each target once; preferring, among plans of equal work, the one already furthest along."""
    return _planned(root, frozenset((id, _Leaf.of(state)) for id, state in states.items()))


@lru_cache(maxsize=1024)
def _planned(root: Node, states: frozenset[tuple[str, _Leaf]]) -> tuple[Requirement, ...]:
    search = _Search(root, dict(states))
    if not search.unmet:
        return ()
    chosen = search.run()
    position = {leaf.id: i for i, leaf in enumerate(requirements(root))}
    steps: dict[tuple[str, str | None, str | None], Requirement] = {}
    for leaf in sorted(chosen, key=lambda leaf: position[leaf.id]):
        steps.setdefault(leaf.target, leaf)
    return tuple(steps.values())
