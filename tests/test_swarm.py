"""The swarm API against a real single-node swarm (the ``swarm`` fixture) on Docker 20.10 and
28.5."""

from __future__ import annotations

import pytest

from aiodockersock import Docker

from .conftest import SwarmHandle

#: Tests that need a real engine (they take the ``swarm`` fixture).
engine_test = pytest.mark.engine


@engine_test
async def test_swarm_fixture_is_an_active_manager_of_its_own(
    swarm: SwarmHandle, swarm_docker: Docker
) -> None:
    info = await swarm_docker.info()
    assert info.swarm is not None
    assert info.swarm.local_node_state == "active"
    assert info.swarm.control_available is True
    assert info.swarm.node_id == swarm.node_id
    assert info.swarm.node_addr == "127.0.0.1"
    assert swarm.server_version.startswith(swarm.label)
    image = await swarm_docker.images.inspect(swarm.image_id)
    assert image.id == swarm.image_id
