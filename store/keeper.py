"""The embedded database's keeper: `python -m store.keeper DATA_DIR PORT [--durable]`.

Started by a member of the data directory (see `store.embedded`) in a session of its own, it
starts SecantusDB as its child — which dies with it — records the address, and then watches:
when the database exits, so does the keeper (a member starts another); when no member has been
alive for `GRACE` seconds, or on SIGTERM, it stops the database cleanly and exits.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from store import embedded

GRACE = 2.0  # seconds without members before the database is stopped
EVERY = 0.25
STOP_TIMEOUT = 15.0


class _Stop(Exception):
    pass


def main(argv: list[str]) -> int:
    data_dir, port, durable = Path(argv[0]), int(argv[1]), "--durable" in argv[2:]
    command = [sys.executable, "-m", "secantus", "--host", embedded.HOST, "--port", str(port)]
    command += ["--storage-path", str(data_dir / embedded.STORAGE_DIR), "--log-level", "WARNING"]
    if durable:
        command.append("--sync-on-commit")
    database = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, preexec_fn=embedded.die_with_parent
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the members
    try:
        while not embedded._answers(port):
            if database.poll() is not None:
                return 1
            time.sleep(0.05)
        embedded.write_address(data_dir, database.pid, port)
        alone_since: float | None = None
        while database.poll() is None:
            time.sleep(EVERY)
            if embedded.live_members(data_dir):
                alone_since = None
            elif alone_since is None:
                alone_since = time.monotonic()
            elif time.monotonic() - alone_since > GRACE:
                break
    except _Stop:
        pass
    finally:
        embedded.terminate(database.pid, port, STOP_TIMEOUT)
        embedded.forget_address(data_dir, database.pid)
    return 0 if database.poll() is not None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
