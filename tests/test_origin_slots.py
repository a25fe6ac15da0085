"""The run's slots (engine/slots.py): a freed slot goes to its own origin first, then to the
longest waiter; cancelled waiters neither keep a slot nor lose one."""

from __future__ import annotations

import asyncio

import pytest

from svccheck.engine.slots import OriginSlots


async def settle() -> None:
    for _ in range(5):  # a granted waiter resumes on the loop's next iterations
        await asyncio.sleep(0)


def test_a_freed_slot_goes_to_a_waiter_of_its_own_origin_first() -> None:
    async def scenario() -> list[str]:
        slots = OriginSlots(1)
        order: list[str] = []
        release_a = asyncio.Event()

        async def hold(name: str, origin: str, until: asyncio.Event | None = None) -> None:
            async with slots.slot(origin):
                order.append(name)
                if until is not None:
                    await until.wait()

        first = asyncio.create_task(hold("a1", "a", release_a))
        await settle()
        others = [asyncio.create_task(hold("b1", "b")), asyncio.create_task(hold("c1", "c"))]
        await settle()
        others.append(asyncio.create_task(hold("a2", "a")))  # came last, same origin as the holder
        await settle()
        release_a.set()
        await asyncio.gather(first, *others)
        return order

    assert asyncio.run(scenario()) == ["a1", "a2", "b1", "c1"]


def test_no_more_than_total_hold_a_slot_at_once() -> None:
    async def scenario() -> int:
        slots = OriginSlots(3)
        now = peak = 0

        async def one(origin: int) -> None:
            nonlocal now, peak
            async with slots.slot(origin):
                now += 1
                peak = max(peak, now)
                await asyncio.sleep(0)
                now -= 1

        await asyncio.gather(*(one(i % 7) for i in range(200)))
        return peak

    assert asyncio.run(scenario()) == 3


@pytest.mark.parametrize(
    "when",
    [
        # cancelled in the holder's last step, a2 is still queued when the slot is released:
        # the release steps over it
        "queued",
        # cancelled in the step after the release handed a2 the slot, before a2 could run:
        # a2 passes the slot on
        "granted",
    ],
)
def test_a_cancelled_waiter_neither_keeps_a_slot_nor_loses_one(when: str) -> None:
    async def scenario() -> list[str]:
        slots = OriginSlots(1)
        order: list[str] = []
        release = asyncio.Event()
        waiters: list[asyncio.Task[None]] = []

        async def hold(name: str, origin: str) -> None:
            async with slots.slot(origin):
                order.append(name)

        async def holder() -> None:
            async with slots.slot("a"):
                order.append("a1")
                await release.wait()
                if when == "queued":
                    waiters[0].cancel()
            if when == "granted":
                waiters[0].cancel()

        first = asyncio.create_task(holder())
        await settle()
        waiters += [asyncio.create_task(hold("a2", "a")), asyncio.create_task(hold("b1", "b"))]
        await settle()
        release.set()
        async with asyncio.timeout(5):  # a slot lost would leave b1 waiting for ever
            await asyncio.gather(first, waiters[1])
        assert waiters[0].cancelled()
        async with asyncio.timeout(1):  # the slot came back: a newcomer gets it at once
            async with slots.slot("c"):
                order.append("c1")
        return order

    assert asyncio.run(scenario()) == ["a1", "b1", "c1"]
