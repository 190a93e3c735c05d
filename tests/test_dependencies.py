"""Every module the product imports at run time is a runtime dependency, so `pip install .`
alone gives a server that works (an upload once failed because python-multipart only came
with the test extra)."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib

from tests.helpers import PACKAGES, ROOT, imported_packages

# Imported by a library on our behalf, or run as a program: invisible to a scan of our imports.
INDIRECT = {
    "multipart": "Starlette parses multipart forms (document uploads) with it",
    "secantus": "the embedded database, run as `python -m secantus`",
}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = (re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0] for spec in project["dependencies"])
    return {normalized(name) for name in names}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def third_party_modules() -> set[str]:
    found = set(INDIRECT)
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found |= imported_packages(path)
    return found - set(PACKAGES) - sys.stdlib_module_names


def test_every_runtime_import_is_a_runtime_dependency():
    distributions = importlib.metadata.packages_distributions()
    missing = {
        module: distributions.get(module)
        for module in third_party_modules()
        if not {normalized(name) for name in distributions.get(module, [])} & declared()
    }
    assert missing == {}


def test_runtime_dependencies_have_lower_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert [spec for spec in project["dependencies"] if ">=" not in spec] == []
