"""CI's plain-install stage: the package installed *without* extras, driven as a user drives it.

    python .ci/smoke.py VENV

`VENV` holds `pip install .` and nothing else. From a scratch directory this imports every
installed module and runs the installed `credgraph` — `--version`, `serve --demo` on the
embedded database — and over real HTTP: every example of the README in order (upload and
download included, see `tests/readme.py`), GraphiQL and its bundled assets, `/healthz`,
`/metrics`, and the `graphql-http` server audit; then `serve --workers 2` on the same data
directory. After each server stops (SIGTERM) no process may be left. Standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.readme import Runner, examples  # noqa: E402

# Every module of the installed packages, imported (`__main__` would run the CLI): a runtime
# import that only the test extra satisfies fails here, not in a user's first request.
IMPORT_EVERYTHING = """
import importlib, pkgutil, graph, resolvers, store
names = [m.name for p in (graph, resolvers, store)
         for m in pkgutil.walk_packages(p.__path__, p.__name__ + ".")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(graph.__file__, len(names))
"""


def main(venv: Path) -> None:
    bin_dir = venv.resolve() / "bin"
    credgraph = bin_dir / "credgraph"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CREDGRAPH_", "MONGODB_"))}
    with tempfile.TemporaryDirectory(prefix="credgraph-smoke-") as scratch:
        work = Path(scratch)
        try:
            steps(credgraph, bin_dir, work, env)
        except BaseException:
            log = work / "server.log"
            if log.exists():
                print("".join(log.read_text().splitlines(True)[-60:]), file=sys.stderr)
            raise


def steps(credgraph: Path, bin_dir: Path, work: Path, env: dict[str, str]) -> None:
    version = run([credgraph, "--version"], work, env).stdout.strip()
    step(f"installed: {version}")
    imported = run([bin_dir / "python", "-c", IMPORT_EVERYTHING], work, env).stdout.split()
    assert imported[0].startswith(str(bin_dir.parent)), f"not the installed package: {imported}"
    step(f"every one of the {imported[1]} modules imports without the test extra")

    url = serve(credgraph, work, env, "--demo")
    try:
        runner = Runner(url, bin_dir, work, env={})
        for example in examples():
            runner.run(example)
        step(f"the README's {len(examples())} examples print what the README shows")
        graphiql(url)
        wallboard(url)
        health = json.loads(fetch(f"{url}/healthz").read())
        assert health == {"status": "ok", "database": "ok"}, health
        scrape = fetch(f"{url}/metrics").read().decode()
        dashboard = 'credgraph_requests_total{operation="Dashboard",route="/graphql",status="200"}'
        assert dashboard in scrape, scrape
        assert "credgraph_database_commands_total" in scrape
        step("/healthz and /metrics answer")
        audit(f"{url}/graphql")
    finally:
        stop(work)

    url = serve(credgraph, work, env, "--workers", "2")
    try:
        token = run([credgraph, "token", "ada.admin@northwind.example"], work, env).stdout
        for _ in range(6):
            answer = graphql(url, "{ me { email } }", token.strip())
            assert answer == {"data": {"me": {"email": "ada.admin@northwind.example"}}}
        step("serve --workers 2 on the same data directory answers")
    finally:
        stop(work)


server: subprocess.Popen[bytes] | None = None


def serve(credgraph: Path, work: Path, env: dict[str, str], *args: str) -> str:
    global server
    port = free_port()
    log = (work / "server.log").open("a")  # printed if a step fails
    server = subprocess.Popen(
        [str(credgraph), "serve", "--port", str(port), *args],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert server.poll() is None, "credgraph serve exited"
        try:
            if fetch(f"{url}/healthz").status == 200:
                step(f"credgraph serve {' '.join(args)} is up")
                return url
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError("credgraph serve never became healthy")


def stop(work: Path) -> None:
    assert server is not None
    server.send_signal(signal.SIGTERM)
    code = server.wait(timeout=60)
    assert code == 0, f"credgraph serve exited {code} on SIGTERM"
    deadline = time.monotonic() + 15
    while (left := processes_in(work)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes left behind: {left}"
    step("stopped by SIGTERM; no process left")


def graphiql(url: str) -> None:
    page = fetch(f"{url}/graphql", Accept="text/html").read().decode()
    assert "graphiql" in page.lower()
    assets = [part.split('"')[0] for part in page.split('src="')[1:]]
    assert assets, page
    for asset in assets:
        fetch(f"{url}{asset}")
    step(f"GraphiQL and its {len(assets)} bundled scripts are served")


def wallboard(url: str) -> None:
    page = fetch(f"{url}/dashboard", Accept="text/html").read().decode()
    assets = [
        part.split('"')[0]
        for marker in ('src="', 'href="')
        for part in page.split(marker)[1:]
        if part.startswith("/static/")
    ]
    assert len(assets) >= 2, page  # its script and its stylesheet
    for asset in assets:
        fetch(f"{url}{asset}")
    step(f"the reference dashboard and its {len(assets)} files are served")


def audit(endpoint: str) -> None:
    here = ROOT / ".ci" / "audit"
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=here, check=True)
    subprocess.run(["node", "audit.mjs", endpoint], cwd=here, check=True)
    step("graphql-http audit: no warnings, no errors")


def graphql(url: str, query: str, token: str) -> object:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def fetch(url: str, **headers: str):  # noqa: ANN201
    response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30)
    assert response.status == 200, (url, response.status)
    return response


def run(command: list, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (command, done.stderr)
    return done


def processes_in(work: Path) -> list[str]:
    """Live processes whose command line or working directory is in the scratch directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and (str(work) in cmdline or cwd.startswith(str(work))):
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def step(message: str) -> None:
    print(f"smoke: {message}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
