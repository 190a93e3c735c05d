"""Imports point one way: graph -> resolvers -> store."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FORBIDDEN = {"store": {"graph", "resolvers"}, "resolvers": {"graph"}}
PACKAGES = ("graph", "resolvers", "store")


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if imported_packages(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_store_knows_nothing_of_graphql():
    for path in (ROOT / "store").rglob("*.py"):
        assert not imported_packages(path) & {"strawberry", "graphql"}, path


def test_secantus_is_never_imported():
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            assert "secantus" not in imported_packages(path), path


# Where the clock may be read: the clock itself, the request's context (whose `now` and `when`
# put the moment into the answer's tag, `graph.freshness`), start-up repair and the document
# route, which answer no query. Any other reading would make a polled answer's tag lie.
CLOCK_READERS = {"resolvers/clock.py", "graph/view.py", "graph/app.py", "graph/documents.py"}


def test_the_clock_is_read_only_where_answers_account_for_it():
    reading = re.compile(r"\b(?:datetime|clock)\.now\(|\btime\.time\(")
    readers = {
        str(path.relative_to(ROOT))
        for package in ("graph", "resolvers")
        for path in (ROOT / package).rglob("*.py")
        if reading.search(path.read_text())
    }
    assert readers == CLOCK_READERS
