"""The list-then-watch container cache (aiodockersock/_watch.py) against a fake daemon's faults.

Its normal path runs against the real engines in tests/test_containers.py.
"""

from __future__ import annotations

import asyncio

from aiodockersock import Docker, ReconnectPolicy

from .fake_daemon import FakeDaemon, make_event

FAST = ReconnectPolicy(attempts=10, initial_delay=0.01, max_delay=0.1)


async def test_watch_relists_after_a_gap(fake: FakeDaemon) -> None:
    def summary(n: int, state: str) -> dict[str, object]:
        return {"Id": f"{n:064x}", "Names": [f"/c{n}"], "State": state, "Labels": {}}

    fake.containers = [summary(1, "running")]
    async with Docker(fake.host) as docker:
        async with docker.containers.watch(reconnect=FAST) as watch:
            first = await asyncio.wait_for(watch.__anext__(), 5)
            assert (first.kind, first.id) == ("added", f"{1:064x}")
            await fake.publish(make_event(1, action="pause"))
            fake.containers = [summary(1, "paused")]
            change = await asyncio.wait_for(watch.__anext__(), 5)
            assert (change.kind, change.container.state, change.action) == (
                "updated", "paused", "pause")
            # the connection drops and the daemon "restarts": its replay buffer is gone, and
            # meanwhile c1 was removed and c2 created (their events are lost)
            fake.forget()
            fake.containers = [summary(2, "created")]
            await fake.stop()
            await fake.start()
            await fake.publish(make_event(3, action="create", nano=2_000_000_000_000_000_000))
            fake.containers.append(summary(3, "created"))
            changes = [await asyncio.wait_for(watch.__anext__(), 10) for _ in range(3)]
    got = sorted((c.kind, c.id[-1]) for c in changes)
    assert got == [("added", "2"), ("added", "3"), ("removed", "1")]
    assert {c.action for c in changes} == {None}  # from the re-list after the gap
