"""Imports point one way: graph -> resolvers -> store."""

from __future__ import annotations

import ast
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
