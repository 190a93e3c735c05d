"""The README's examples, in order, against a live `credgraph serve --demo` started the way the
README starts it; each printed answer is checked (see `tests/readme.py`)."""

from __future__ import annotations

import os
import re

from resolvers.errors import Code
from tests.helpers import ROOT
from tests.readme import README, Runner, examples
from tests.servers import CREDGRAPH, Server


def test_the_readme_examples_run_and_print_what_the_readme_shows(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("CREDGRAPH_") or n == "MONGODB_URI"]:
        monkeypatch.delenv(name)
    server = Server(tmp_path / ".credgraph", "--demo")  # where `serve` run in tmp_path puts it
    try:
        runner = Runner(server.base, CREDGRAPH.parent, tmp_path, env={})
        found = examples()
        assert len(found) >= 15
        for example in found:
            runner.run(example)
    finally:
        server.stop()


def test_the_error_tables_name_every_code_the_server_returns():
    section = README.read_text().split("## Errors\n", 1)[1].split("\n## ", 1)[0]
    returned = {code.value for code in Code}
    for path in (ROOT / "graph").glob("*.py"):
        returned |= {
            literal
            for literal in re.findall(r'"([A-Z]+(?:_[A-Z]+)+)"', path.read_text())
            if not literal.startswith(("CREDGRAPH_", "MONGODB_", "PROMETHEUS_"))
        }
    assert sorted(code for code in returned if f"`{code}`" not in section) == []
