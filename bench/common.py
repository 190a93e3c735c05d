"""What several benchmarks measure with: medians after a warm-up, and a free loopback port."""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

SECRET = "bench-secret-" + "x" * 40  # signs the benchmarks' tokens; never a real server's


async def median_seconds(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """The median of `repeat` timed calls, after three untimed ones (caches, connections)."""
    for _ in range(3):
        await call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
