"""The README's examples, run in order against a live `credgraph serve --demo` and checked
against the answers the README prints, so that the walkthrough cannot drift from the product.

Standard library only: CI's plain-install stage runs it with nothing but the installed package
(`.ci/smoke.py`), and `tests/test_readme.py` runs it against the checkout.

A fenced block runs when an HTML comment (invisible on GitHub) right above it says so:

    <!-- example: NAME [as EMAIL] [JSON] -->

- a `graphql` block is sent to `/graphql` with EMAIL's token (fetched with `credgraph token`),
  and JSON gives its variables;
- an `sh` block runs in bash in a scratch directory where `.venv/bin/credgraph` is the
  installed one, with JSON as extra environment variables; its trailing `# …` comment lines
  are the output it must print.

In JSON, a string `"@NAME.a.0.b"` stands for that path in the answer of example NAME. A
`json` block right after a `graphql` block is its answer. In an expected answer `"…"` matches
any value, and a string ending in `…` any string that begins the same.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

README = Path(__file__).parents[1] / "README.md"
DOCUMENTED_URL = "http://127.0.0.1:8000"
ANY = "…"
DIRECTIVE = re.compile(
    r"<!-- example: (?P<name>[\w-]+)(?: as (?P<user>\S+@\S+))?(?: (?P<json>\{.*\}))? -->"
)
FENCE = re.compile(
    r"(?P<indent> *)```(?P<language>\w*)\n(?P<code>.*?)^(?P=indent)```\n", re.S | re.M
)


class ExampleFailed(AssertionError):
    pass


@dataclass
class Example:
    name: str
    language: str
    code: str
    line: int
    user: str | None = None
    given: dict[str, Any] = field(default_factory=dict)
    expected: str | None = None


def examples(text: str | None = None) -> list[Example]:
    """Every marked block of the README, in order, with the answer printed after it."""
    text = README.read_text() if text is None else text
    found = []
    for directive in DIRECTIVE.finditer(text):
        fence = FENCE.match(text, directive.end() + 1)
        line = text.count("\n", 0, directive.start()) + 1
        if fence is None:
            raise ExampleFailed(f"README line {line}: no code block right after the marker")
        example = Example(
            name=directive["name"],
            language=fence["language"],
            code=textwrap.dedent(fence["code"]),
            line=line,
            user=directive["user"],
            given=json.loads(directive["json"] or "{}"),
        )
        if example.language == "graphql":
            answer = FENCE.match(text, _after_blank_lines(text, fence.end()))
            if answer is not None and answer["language"] == "json":
                example.expected = textwrap.dedent(answer["code"])
        elif example.language == "sh":
            comments = re.search(r"(?:^# .*\n)+\Z", example.code, re.M)
            if comments:
                example.code = example.code[: comments.start()]
                example.expected = re.sub(r"^# ", "", comments[0], flags=re.M)
        else:
            raise ExampleFailed(f"README line {line}: cannot run a {example.language!r} block")
        found.append(example)
    return found


def _after_blank_lines(text: str, position: int) -> int:
    while text.startswith("\n", position):
        position += 1
    return position


class Runner:
    """Runs examples in order against the server at `url`, remembering their answers."""

    def __init__(self, url: str, bin_dir: Path, workdir: Path, env: dict[str, str]) -> None:
        self.url = url.rstrip("/")
        self.workdir = workdir
        self.env = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
        self.credgraph = bin_dir / "credgraph"
        self.answers: dict[str, Any] = {}
        self.tokens: dict[str, str] = {}
        venv = workdir / ".venv" / "bin"
        venv.mkdir(parents=True, exist_ok=True)
        if not (venv / "credgraph").exists():
            (venv / "credgraph").symlink_to(self.credgraph)
        (workdir / "acls-card.pdf").write_bytes(sample_pdf())  # the file the upload sends

    def run(self, example: Example) -> Any:
        where = f"README line {example.line} ({example.name})"
        if example.language == "graphql":
            answer = self._graphql(example, where)
            if example.expected is not None:
                _check(json.loads(example.expected), answer, where)
            elif "errors" in answer:
                raise ExampleFailed(f"{where} failed: {answer['errors']}")
        else:
            output = self._sh(example, where)
            answer = _json_or_text(output)
            if example.expected is not None:
                expected = _json_or_text(example.expected)
                if isinstance(expected, str) or isinstance(answer, str):
                    _check_text(example.expected, output, where)
                else:
                    _check(expected, answer, where)
        self.answers[example.name] = answer
        return answer

    def token(self, email: str) -> str:
        if email not in self.tokens:
            made = subprocess.run(
                [str(self.credgraph), "token", email],
                capture_output=True, text=True, cwd=self.workdir, env=self.env, timeout=60,
            )  # fmt: skip
            if made.returncode != 0:
                raise ExampleFailed(f"credgraph token {email}: {made.stderr.strip()}")
            self.tokens[email] = made.stdout.strip()
        return self.tokens[email]

    def _graphql(self, example: Example, where: str) -> Any:
        headers = {"Content-Type": "application/json"}
        if example.user:
            headers["Authorization"] = f"Bearer {self.token(example.user)}"
        body = {"query": example.code, "variables": self._resolved(example.given, where)}
        request = urllib.request.Request(
            f"{self.url}/graphql", data=json.dumps(body).encode(), headers=headers
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def _sh(self, example: Example, where: str) -> str:
        extra = {key: str(value) for key, value in self._resolved(example.given, where).items()}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", example.code.replace(DOCUMENTED_URL, self.url)],
            capture_output=True, text=True, cwd=self.workdir, env={**self.env, **extra},
            timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise ExampleFailed(f"{where} exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def _resolved(self, value: Any, where: str) -> Any:
        if isinstance(value, dict):
            return {key: self._resolved(item, where) for key, item in value.items()}
        if isinstance(value, list):
            return [self._resolved(item, where) for item in value]
        if isinstance(value, str) and value.startswith("@"):
            name, *path = value[1:].split(".")
            found: Any = self.answers[name]
            try:
                for step in path:
                    found = found[int(step)] if isinstance(found, list) else found[step]
            except (KeyError, IndexError, TypeError, ValueError) as error:
                raise ExampleFailed(f"{where}: {value} is not in {found!r}") from error
            return found
        return value


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def matches(expected: Any, actual: Any) -> bool:
    if expected == ANY:
        return True
    if isinstance(expected, str) and expected.endswith(ANY):
        return isinstance(actual, str) and actual.startswith(expected[: -len(ANY)])
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(expected[key], actual[key]) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual and type(expected) is type(actual))


def _check(expected: Any, actual: Any, where: str) -> None:
    if not matches(expected, actual):
        shown, answered = (json.dumps(x, indent=2, ensure_ascii=False) for x in (expected, actual))
        raise ExampleFailed(f"{where} answered\n{answered}\nbut the README shows\n{shown}")


def _check_text(expected: str, actual: str, where: str) -> None:
    pattern = ".*".join(re.escape(part) for part in expected.strip().split(ANY))
    if not re.fullmatch(pattern, actual.strip(), re.S):
        raise ExampleFailed(f"{where} printed\n{actual}\nbut the README shows\n{expected}")


def sample_pdf() -> bytes:
    """A one-page PDF, written by hand because the plain install has no PDF writer."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        table,
    )
    return bytes(pdf)
