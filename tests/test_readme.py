"""The README's examples, in order, against a live `credgraph serve --demo` started the way the
README starts it; each printed answer is checked (see `tests/readme.py`)."""

from __future__ import annotations

import os

from tests.readme import Runner, examples
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
