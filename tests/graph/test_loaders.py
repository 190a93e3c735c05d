"""The per-request loaders: one caller's cancellation is not every caller's."""

from __future__ import annotations

import asyncio

from graph.loaders import Shielded


async def test_a_cancelled_caller_leaves_the_others_their_answer():
    release = asyncio.Event()

    async def load(keys):
        await release.wait()
        return [f"value of {key}" for key in keys]

    loader = Shielded(load_fn=load)
    cancelled = asyncio.ensure_future(loader.load("k"))
    waiting = asyncio.ensure_future(loader.load("k"))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await waiting == "value of k"
    assert cancelled.cancelled()
