"""The layers hold: imports point one way (graph -> resolvers -> store); only graph knows
GraphQL; graph calls resolvers, never a store function; the clock is read in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import PACKAGES, ROOT, imported_packages

FORBIDDEN = {"store": {"graph", "resolvers"}, "resolvers": {"graph"}}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if imported_packages(path) & FORBIDDEN[package]
    }
    assert offenders == {}


@pytest.mark.parametrize("package", ["resolvers", "store"])
def test_only_graph_knows_graphql(package):
    for path in (ROOT / package).rglob("*.py"):
        assert not imported_packages(path) & {"strawberry", "graphql"}, path


# Where graph may call into store directly: the composition roots, which open the database and
# start the embedded server that everything else is given, and the shape of a database id,
# which global ids wrap.
STORE_CALLERS = {
    "graph/app.py": {"store.database.open_database"},
    "graph/cli.py": {
        "store.database.connect",
        "store.database.open_database",
        "store.embedded.acquire",
        "store.embedded.supervise",
    },
    "graph/ids.py": {"store.ids.is_valid"},
}


def store_calls(path: Path) -> set[str]:
    """The store functions a module calls (classes — types, enums, errors — are its to use)."""
    tree = ast.parse(path.read_text())
    modules: dict[str, str] = {}
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "store":
                continue
            for alias in node.names:
                if node.module == "store":
                    modules[alias.asname or alias.name] = f"store.{alias.name}"
                else:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    called = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if func.value.id in modules and not func.attr[0].isupper():
                called.add(f"{modules[func.value.id]}.{func.attr}")
        elif isinstance(func, ast.Name) and func.id in names and not func.id[0].isupper():
            called.add(names[func.id])
    return called


def test_graph_calls_resolvers_never_a_store_function():
    calls = {
        str(path.relative_to(ROOT)): store_calls(path) for path in (ROOT / "graph").rglob("*.py")
    }
    assert {path: found for path, found in calls.items() if found} == STORE_CALLERS


def test_secantus_is_never_imported():
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            assert "secantus" not in imported_packages(path), path


# Where the clock may be read: the clock itself, the request's context (whose `now` and `when`
# put the moment into the answer's tag, `graph.freshness`), start-up repair, the verifiers'
# routes (`/verify`, `/status/…`), the plain routes' moment (`graph.bearer`: documents,
# exports, imports), the reminders' scheduler, the webhooks' dispatcher and the imports'
# background runs, which answer no polled query. Any other reading would make a polled
# answer's tag lie.
CLOCK_READERS = {
    "resolvers/clock.py",
    "graph/view.py",
    "graph/app.py",
    "graph/bearer.py",
    "graph/publishing.py",
    "resolvers/imports.py",
    "resolvers/reminders.py",
    "resolvers/webhooks.py",  # the dispatcher's rounds, as the reminders' ticks
}


def test_the_clock_is_read_only_where_answers_account_for_it():
    reading = re.compile(r"\b(?:datetime|clock)\.now\(|\btime\.time\(")
    readers = {
        str(path.relative_to(ROOT))
        for package in ("graph", "resolvers")
        for path in (ROOT / package).rglob("*.py")
        if reading.search(path.read_text())
    }
    assert readers == CLOCK_READERS


def test_enums_are_registered_in_one_place():
    registering = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "graph").rglob("*.py")
        if "strawberry.enum(" in path.read_text()
    }
    assert registering == {"graph/enums.py"}


def test_test_modules_share_helpers_not_each_other():
    """What tests share lives in tests/helpers.py (and the other helper modules) or fixtures:
    a test module imported by another runs its tests twice and couples them."""
    offenders = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        }
        found = sorted(m for m in imported if m.split(".")[-1].startswith("test_"))
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}
