"""Admission: as many at work as allowed, as many waiting as allowed, the rest refused — and
no slot ever lost, whatever happens to those waiting."""

from __future__ import annotations

import asyncio

import pytest

from graph.admission import Admission, Overloaded


async def attempt(admission: Admission, hold: asyncio.Event) -> str:
    try:
        async with admission.slot():
            await hold.wait()
    except Overloaded:
        return "refused"
    return "served"


@pytest.mark.parametrize(("arriving", "served"), [(1, 1), (2, 2), (3, 2), (6, 2)])
async def test_one_at_work_one_waiting_the_rest_refused(arriving, served):
    admission = Admission(concurrent=1, waiting=1, patience=5)
    hold = asyncio.Event()
    tasks = [asyncio.create_task(attempt(admission, hold)) for _ in range(arriving)]
    await asyncio.sleep(0.01)
    hold.set()
    outcomes = await asyncio.gather(*tasks)
    assert outcomes.count("served") == served
    assert outcomes.count("refused") == arriving - served
    assert (admission.slots.locked(), admission.waiting) == (False, 0)  # no slot lost


async def test_a_freed_slot_goes_to_the_one_waiting_not_to_a_newcomer():
    admission = Admission(concurrent=1, waiting=1, patience=5)
    order: list[str] = []

    async def work(name: str) -> None:
        async with admission.slot():
            order.append(name)
            await asyncio.sleep(0)

    first = asyncio.create_task(work("first"))
    waiting = asyncio.create_task(work("waiting"))
    await asyncio.sleep(0)
    await first  # frees its slot: handed to "waiting", the queue is empty again at once
    newcomer = asyncio.create_task(work("newcomer"))
    await asyncio.gather(waiting, newcomer)
    assert order == ["first", "waiting", "newcomer"]


async def test_those_who_give_up_waiting_lose_no_slot():
    admission = Admission(concurrent=1, waiting=5, patience=0.05)
    hold = asyncio.Event()
    holder = asyncio.create_task(attempt(admission, hold))
    await asyncio.sleep(0)
    impatient = asyncio.create_task(attempt(admission, asyncio.Event()))
    cancelled = asyncio.create_task(attempt(admission, asyncio.Event()))
    await asyncio.sleep(0)
    cancelled.cancel()
    assert await impatient == "refused"  # waited its patience out
    hold.set()
    assert await holder == "served"
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert (admission.slots.locked(), admission.waiting) == (False, 0)  # no slot lost
