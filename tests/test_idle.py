"""The event loop's idle moments (`engine.idle`): queued work runs only when nothing else is ready."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap

from svccheck.engine import idle


def test_queued_work_waits_until_the_ready_callbacks_have_run() -> None:
    log: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def queued() -> None:
            log.append("idle")
            done.set_result(None)

        def soon() -> None:
            log.append("soon")
            loop.call_soon(log.append, "soon again")

        idle.call_when_idle(queued)
        loop.call_soon(soon)
        await asyncio.wait_for(done, 10)

    idle.run(main())
    assert log == ["soon", "soon again", "idle"]


def test_a_socket_that_becomes_ready_is_served_before_the_next_idle_callback() -> None:
    log: list[str] = []
    reader, writer = socket.socketpair()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def read() -> None:
            log.append("read")
            reader.recv(1)
            loop.remove_reader(reader)

        def first() -> None:
            log.append("idle 1")
            writer.send(b"x")

        def second() -> None:
            log.append("idle 2")
            done.set_result(None)

        loop.add_reader(reader, read)
        idle.call_when_idle(first)
        idle.call_when_idle(second)
        await asyncio.wait_for(done, 10)

    try:
        idle.run(main())
    finally:
        reader.close()
        writer.close()
    assert log == ["idle 1", "read", "idle 2"]


def test_a_loop_of_asyncio_s_own_calls_it_soon() -> None:
    async def main() -> str:
        done = asyncio.get_running_loop().create_future()
        idle.call_when_idle(lambda: done.set_result("called"))
        return await asyncio.wait_for(done, 10)

    assert asyncio.run(main()) == "called"


def test_modules_are_imported_in_order_and_one_that_fails_is_skipped() -> None:
    code = textwrap.dedent("""
        import asyncio, sys
        from svccheck.engine import idle
        names = ["svccheck.report.markdown", "no.such.module", "svccheck.report.junit"]
        assert not set(names) & set(sys.modules)
        async def main():
            done = asyncio.get_running_loop().create_future()
            idle.import_when_idle(names)
            idle.call_when_idle(lambda: done.set_result(None))
            await asyncio.wait_for(done, 30)
        idle.run(main())
        print(" ".join(name for name in names if name in sys.modules))
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["svccheck.report.markdown", "svccheck.report.junit"]
