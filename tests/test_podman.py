"""What the library does about Podman's Docker-compatible service, without a real one.

A small fake answers as Podman 4.3 answered on this machine (its ``Libpod-Api-Version`` header
on every answer, its shapes and its statuses), and records what the library sent; the same calls
against a daemon without that header show that Docker engines are left alone. The real thing
runs in the engine tests (``tests/test_containers.py`` … marked ``podman``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web

from aiodockersock import (
    APIError,
    BadRequest,
    Conflict,
    DecodeError,
    Docker,
    Forbidden,
    NotFound,
    NotSupported,
    ServerError,
)
from aiodockersock._bodies import decode_path_stat
from aiodockersock._podman import (
    UNTIL_MARGIN,
    docker_event,
    docker_network_options,
    docker_states,
    event_filters,
    has_labels,
    import_changes,
    no_swarm_mode,
    podman_path_stat,
    podman_until,
    resume_since,
    split_label_filter,
    split_top,
)
from aiodockersock.models import (
    ContainerStats,
    ContainerSummary,
    ContainerTopResponse,
    EventActor,
    EventMessage,
    ImageDeleteResponseItem,
    PathStat,
    PingInfo,
)

PODMAN = {"Libpod-Api-Version": "4.3.1", "Api-Version": "1.41"}

Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FakeService:
    """Answers by (method, path without the version prefix); records every request."""

    podman: bool = True
    routes: dict[tuple[str, str], Reply] = field(default_factory=dict)
    seen: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return PODMAN if self.podman else {"Api-Version": "1.41"}

    def json(self, doc: Any, status: int = 200) -> web.Response:
        return web.json_response(doc, status=status, headers=self.headers)

    def error(self, message: str, status: int = 500) -> web.Response:
        cause = message.rsplit(": ", 1)[-1]
        return self.json({"cause": cause, "message": message, "response": status}, status)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/v1."):
            path = "/" + path.split("/", 2)[2]
        query: dict[str, list[str]] = {}
        for key, value in request.query.items():
            query.setdefault(key, []).append(value)
        self.seen.append((request.method, path, query))
        if path == "/_ping":
            return web.Response(text="OK", headers=self.headers)
        reply = self.routes.get((request.method, path))
        if reply is None:  # what Podman's router answers for a path it has no route for
            return web.Response(status=404, text="Not Found\n")
        return await reply(request)

    def sent(self, method: str, path: str) -> list[dict[str, list[str]]]:
        return [q for m, p, q in self.seen if (m, p) == (method, path)]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[FakeService]:
    fake = FakeService()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.UnixSite(runner, str(tmp_path / "podman.sock")).start()
    yield fake
    await runner.cleanup()


@pytest.fixture
async def docker(service: FakeService, tmp_path: Path) -> AsyncIterator[Docker]:
    async with Docker(f"unix://{tmp_path / 'podman.sock'}") as client:
        yield client


def filters_of(query: dict[str, list[str]]) -> Any:
    return json.loads(query["filters"][0]) if "filters" in query else None


# ---------------------------------------------------------------------------------------------
# Knowing the engine, and its errors
# ---------------------------------------------------------------------------------------------


async def test_ping_names_podman(docker: Docker, service: FakeService) -> None:
    ping = await docker.ping()
    assert ping.podman_version == "4.3.1"
    assert await docker._transport.is_podman()
    service.podman = False
    async with Docker(docker.url) as other:
        assert (await other.ping()).podman_version is None
        assert not await other._transport.is_podman()


def test_ping_info_reads_the_libpod_header() -> None:
    headers = {"Api-Version": "1.41", "Libpod-Api-Version": "4.3.1", "Docker-Experimental": "true",
               "Server": "Libpod/4.3.1 (linux)"}
    assert PingInfo.from_headers(headers) == PingInfo(
        api_version="1.41", experimental=True, podman_version="4.3.1"
    )


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ('"abc" is already paused: container state improper', Conflict),
        # a kill racing the container's own exit (seen in CI on a force remove)
        ("container state improper: stopped", Conflict),
        ("cannot remove container abc as it is running - running or paused containers cannot "
         "be removed without force: container state improper", Conflict),
        ("container create: creating container storage: the container name \"web\" is already "
         "in use by abc. You have to remove that container to be able to reuse that name: that "
         "name is already in use", Conflict),
        ("can only start created exec sessions, while container abc session def state is "
         '"running": exec session state improper', Conflict),
        ("network name web already used: network already exists", Conflict),
        ('"" is not supported: invalid network mode', BadRequest),
        ('container abc is already connected to network "web": network is already connected',
         Forbidden),
        ('"web" has associated containers with it. Use -f to forcibly delete containers and '
         "pods: network is being used", Forbidden),
        ("default network podman cannot be removed", Forbidden),
        ("running volume create option: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid "
         "argument", BadRequest),
        ("invalid mount option bogus for driver 'local': invalid argument", BadRequest),
        ("no-such is an invalid filter", BadRequest),
        ("normalizing image: normalizing name for compat API: invalid reference format",
         BadRequest),
        ("OCI runtime error: runc: exec failed", ServerError),
    ],
)
async def test_podman_500s_are_raised_as_docker_would_say_them(
    docker: Docker, service: FakeService, message: str, cls: type[APIError]
) -> None:
    async def reply(request: web.Request) -> web.Response:
        return service.error(message)

    service.routes["POST", "/containers/abc/pause"] = reply
    with pytest.raises(APIError) as info:
        await docker.containers.pause("abc")
    assert type(info.value) is cls
    assert (info.value.status, info.value.message) == (500, message)
    # the same answer from another engine is a ServerError, as its status says
    service.podman = False
    with pytest.raises(APIError) as again:
        await docker.containers.pause("abc")
    assert type(again.value) is ServerError


async def test_a_missing_endpoint_is_not_supported(docker: Docker, service: FakeService) -> None:
    with pytest.raises(NotSupported) as info:
        await docker.containers.update("abc", {"CpuShares": 512})
    assert not isinstance(info.value, NotFound)  # not "no such container"
    assert (info.value.status, info.value.message) == (404, "Not Found")
    assert str(info.value) == ("the engine does not implement POST /v1.41/containers/abc/update "
                               "(it answered 404 'Not Found', as for an unknown path)")


def test_swarm_paths_say_podman_has_no_swarm_mode() -> None:
    for path, what in [("/v1.41/nodes", "nodes"), ("/v1.41/services/x/logs", "services"),
                       ("/tasks", "tasks"), ("/v1.41/configs/create", "configs"),
                       ("/v1.41/swarm/init", "swarm to init, join or inspect")]:
        assert no_swarm_mode(path, "4.3.1") == (
            f"Podman 4.3.1 has no swarm mode, so it has no {what} (swarm mode cannot be turned "
            "on: there is no docker.swarm.init() for it); swarm calls need a Docker engine that "
            "is a swarm manager")
    # Podman's secrets are its own (they work), and other paths are not about the swarm
    for path in ("/v1.41/secrets/x/update", "/v1.41/swarmy", "/v1.41/containers/nodes"):
        assert no_swarm_mode(path, "4.3.1") is None
    assert (no_swarm_mode("/v1.41/nodes", None) or "").startswith("Podman has no swarm mode")


async def test_a_swarm_call_podman_lacks_says_it_has_no_swarm_mode(
    docker: Docker, service: FakeService
) -> None:
    await docker.ping()  # the engine is known from its answers (a plain 404 has no header)
    with pytest.raises(NotSupported) as info:
        await docker.nodes.list()
    assert (info.value.status, info.value.message) == (404, "Not Found")
    assert str(info.value) == (
        "Podman 4.3.1 has no swarm mode, so it has no nodes (swarm mode cannot be turned on: "
        "there is no docker.swarm.init() for it); swarm calls need a Docker engine that is a "
        "swarm manager (GET /v1.41/nodes: the engine answered 404 'Not Found')")


# ---------------------------------------------------------------------------------------------
# Networks and volumes
# ---------------------------------------------------------------------------------------------


def test_network_options_get_dockers_names() -> None:
    assert docker_network_options({"mtu": "1400", "isolate": "true"}) == {
        "com.docker.network.driver.mtu": "1400", "isolate": "true"}
    same = {"com.docker.network.driver.mtu": "1400"}
    assert docker_network_options(same) is same
    assert docker_network_options(None) is None and docker_network_options({}) == {}


# ---------------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------------


async def test_list_asks_podman_to_sort(docker: Docker, service: FakeService) -> None:
    async def reply(request: web.Request) -> web.Response:
        return service.json([])

    service.routes["GET", "/containers/json"] = reply
    await docker.containers.list()
    await docker.containers.list(all=True, filters={"label": "a=1"})
    await docker.containers.list(filters={"status": "exited"})
    await docker.containers.list(limit=2)
    sent = service.sent("GET", "/containers/json")
    assert [q.get("limit") for q in sent] == [["2147483647"]] * 3 + [["2"]]
    assert [filters_of(q) for q in sent] == [
        {"status": ["running", "paused"]},  # what Docker lists without all
        {"label": ["a=1"]},
        {"status": ["exited"]},
        None,
    ]
    service.podman = False
    async with Docker(docker.url) as other:
        await other.containers.list()
    assert service.sent("GET", "/containers/json")[-1] == {}


def test_top_columns_are_split() -> None:
    podman = ContainerTopResponse(titles=["PID   USER     COMMAND"],
                                  processes=[["1 root     sleep 301"], ["7 root     sh -c x y"]])
    assert split_top(podman) == ContainerTopResponse(
        titles=["PID", "USER", "COMMAND"],
        processes=[["1", "root", "sleep 301"], ["7", "root", "sh -c x y"]],
    )
    docker = ContainerTopResponse(titles=["PID", "CMD"], processes=[["1", "sleep 301"]])
    assert split_top(docker) is docker
    single = ContainerTopResponse(titles=["COMMAND"], processes=[["sleep 301"]])
    assert split_top(single) is single


@pytest.mark.parametrize("running", [False, True])
async def test_an_empty_top_is_a_conflict_only_if_the_container_is_stopped(
    docker: Docker, service: FakeService, running: bool
) -> None:
    async def reply(request: web.Request) -> web.Response:
        return web.Response(status=200, headers=service.headers)  # Podman: nothing at all

    async def inspect(request: web.Request) -> web.Response:
        return service.json({"Id": "abc", "State": {"Running": running}})

    service.routes["GET", "/containers/abc/top"] = reply
    service.routes["GET", "/containers/abc/json"] = inspect
    if not running:
        with pytest.raises(Conflict, match="container abc is not running"):
            await docker.containers.top("abc")
        return
    # a running one: its image has no ps, which Podman runs inside it
    with pytest.raises(ServerError, match=r"running container abc: .* most likely has no ps"):
        await docker.containers.top("abc")


def test_path_stat_header_in_either_base64_alphabet() -> None:
    doc = {"name": "q?x???.txt", "size": 3, "mode": 420, "mtime": "2026-12-03T18:01:00Z",
           "linkTarget": ""}
    raw = json.dumps(doc).encode()
    for header in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        assert decode_path_stat(header.decode()).name == "q?x???.txt"
    assert b"_" in base64.urlsafe_b64encode(raw) and b"/" in base64.b64encode(raw)
    with pytest.raises(DecodeError, match="cannot decode"):
        decode_path_stat("not base64!")


@pytest.mark.parametrize(
    ("labels", "matches"),
    [
        (["app"], True), (["app=web"], True), (["app=db"], False), (["app=web", "tier"], True),
        (["app=web", "tier=back"], False), (["nope"], False), (["tier=x=y"], True),
        (["app="], False),
    ],
)
def test_label_filters_as_docker_matches_them(labels: list[str], matches: bool) -> None:
    attributes = {"app": "web", "tier": "x=y", "name": "c1"}
    assert has_labels(attributes, labels) is matches
    assert has_labels(None, labels) is False


def test_the_label_filter_is_split_off() -> None:
    assert split_label_filter(None) == (None, [])
    assert split_label_filter({"type": "container"}) == ({"type": "container"}, [])
    assert split_label_filter({"label": "a=1"}) == (None, ["a=1"])
    assert split_label_filter({"label": ["a", "b=2"], "event": "die"}) == (
        {"event": "die"}, ["a", "b=2"])


def test_a_container_podman_lists_as_stopped_is_exited() -> None:
    listed = [ContainerSummary(id="a", state="stopped"), ContainerSummary(id="b", state="running"),
              ContainerSummary(id="c", state=None)]
    assert [(c.id, c.state) for c in docker_states(listed)] == [
        ("a", "exited"), ("b", "running"), ("c", None)]


def test_event_filter_names_are_sent_as_podmans() -> None:
    assert event_filters(None) == (None, frozenset())
    assert event_filters({"type": "container"}) == ({"type": "container"}, frozenset())
    assert event_filters({"event": "destroy", "type": "container"}) == (
        {"event": ["remove"], "type": "container"}, frozenset({"destroy"}))
    assert event_filters({"event": ["create", "die", "init"]}) == (
        {"event": ["create", "died", "init"]}, frozenset({"create", "die", "init"}))


def test_podman_events_are_named_as_docker_names_them() -> None:
    actor = EventActor(id="ab" * 32, attributes={"name": "c1"})

    def event(action: str, kind: str = "container") -> EventMessage:
        return EventMessage(type=kind, action=action, status=action, actor=actor, time_nano=5)

    removed = docker_event(event("remove"), frozenset())
    assert removed is not None and (removed.action, removed.status) == ("destroy", "destroy")
    assert removed.actor == actor and removed.time_nano == 5
    assert docker_event(event("die"), frozenset()) == event("die")
    assert docker_event(event("init"), frozenset()) is None  # Docker never sends it
    assert docker_event(event("cleanup"), frozenset({"die"})) is None
    assert docker_event(event("init"), frozenset({"init"})) == event("init")  # asked for
    assert docker_event(event("remove", "pod"), frozenset()) == event("remove", "pod")


def test_since_and_until_as_podman_takes_them() -> None:
    assert resume_since(1_700_000_000_000_000_500) == 1_700_000_000_000_000_499
    now = 1_700_000_000_000_000_000
    margin = int(UNTIL_MARGIN * 1e9)
    assert podman_until(now + 10 * margin, now) == now + 10 * margin  # ahead: as asked
    assert podman_until(now - 60_000_000_000, now) == now + margin  # past: a little ahead


STATS = {
    "read": "2026-11-28T10:59:30.687272173Z", "preread": "0001-01-01T00:00:00Z",
    "pids_stats": {"current": 1}, "num_procs": 0, "storage_stats": {},
    "cpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000, "percpu_usage": [1, 2]},
                  "system_cpu_usage": 9_000_000_000, "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 0}, "cpu": 0},
    "memory_stats": {"usage": 663552, "limit": 25276510208},
    "name": "web", "Id": "ab" * 32,
    "networks": {"network": {"rx_bytes": 0, "tx_bytes": 0}},
}


def test_podman_stats_decode_with_id_and_name() -> None:
    stats = msgspec.json.decode(json.dumps(STATS).encode(), type=ContainerStats)
    assert (stats.id, stats.name) == ("ab" * 32, "/web")
    assert stats.network_rx_bytes == 0 and stats.pids == 1
    docker = msgspec.json.decode(b'{"id": "cd", "name": "/x"}', type=ContainerStats)
    assert (docker.id, docker.name) == ("cd", "/x")


async def test_one_shot_stats_take_two_readings_on_podman(
    docker: Docker, service: FakeService
) -> None:
    readings = []

    async def reply(request: web.Request) -> web.Response:
        n = len(readings)
        readings.append(n)
        doc = json.loads(json.dumps(STATS))
        doc["read"] = f"2026-11-28T10:59:3{n}Z"
        doc["cpu_stats"]["cpu_usage"]["total_usage"] = 1_000_000_000 * (n + 1)
        doc["cpu_stats"]["system_cpu_usage"] = 9_000_000_000 + 2_000_000_000 * n
        return service.json(doc)

    service.routes["GET", "/containers/web/stats"] = reply
    sample = await docker.containers.stats("web")
    assert readings == [0, 1]
    assert (sample.preread, sample.read) == ("2026-11-28T10:59:30Z", "2026-11-28T10:59:31Z")
    assert sample.cpu_percent == pytest.approx(100.0)  # one CPU's worth of the two


def test_path_stat_is_named_after_the_path() -> None:
    link = PathStat(name="busybox", size=7, mode=0o777 | 1 << 27, link_target="/bin/busybox")
    assert podman_path_stat(link, "/bin/sh") == PathStat(
        name="sh", size=7, mode=0o777 | 1 << 27, link_target="/bin/busybox"
    )
    directory = PathStat(name="tmp", size=4096, mode=0o777 | 1 << 31, link_target="/tmp")
    assert podman_path_stat(directory, "/tmp/") == PathStat(
        name="tmp", size=4096, mode=0o777 | 1 << 31, link_target=""
    )
    assert podman_path_stat(directory, "/").name == "/"


async def test_a_force_remove_racing_the_containers_exit_still_removes(
    docker: Docker, service: FakeService
) -> None:
    # the container exits between Podman's state check and its kill: the kill's 500 must not
    # stop the removal (a real engine cannot be made to hit that window on demand)
    async def kill(request: web.Request) -> web.Response:
        return service.error("container state improper: stopped")

    async def delete(request: web.Request) -> web.Response:
        return web.Response(status=204, headers=service.headers)

    service.routes["POST", "/containers/web/kill"] = kill
    service.routes["DELETE", "/containers/web"] = delete
    await docker.containers.remove("web", force=True)
    assert service.sent("DELETE", "/containers/web") == [{"force": ["1"]}]


async def test_put_archive_into_a_missing_directory_is_not_found(
    docker: Docker, service: FakeService
) -> None:
    async def head(request: web.Request) -> web.Response:
        return web.Response(status=404, headers=service.headers)

    async def put(request: web.Request) -> web.Response:
        return web.Response(status=200, headers=service.headers)  # Podman would create it

    service.routes["HEAD", "/containers/web/archive"] = head
    service.routes["PUT", "/containers/web/archive"] = put
    with pytest.raises(NotFound, match="no such path '/nowhere'"):
        await docker.containers.put_archive("web", "/nowhere", b"")
    assert service.sent("PUT", "/containers/web/archive") == []
    stat = base64.b64encode(json.dumps({"name": "tmp", "mode": 2147484141,
                                        "linkTarget": "/tmp"}).encode()).decode()

    async def found(request: web.Request) -> web.Response:
        return web.Response(headers={**service.headers, "X-Docker-Container-Path-Stat": stat})

    service.routes["HEAD", "/containers/web/archive"] = found
    await docker.containers.put_archive("web", "/tmp", b"")
    assert service.sent("PUT", "/containers/web/archive") == [{"path": ["/tmp"]}]


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------


async def test_tag_sends_the_tag_apart(docker: Docker, service: FakeService) -> None:
    async def reply(request: web.Request) -> web.Response:
        return web.Response(status=201, headers=service.headers)

    service.routes["POST", "/images/app/tag"] = reply
    await docker.images.tag("app", "team/app:2.0")
    await docker.images.tag("app", "127.0.0.1:5000/app")
    await docker.images.tag("app", "app", "3")
    assert service.sent("POST", "/images/app/tag") == [
        {"repo": ["team/app"], "tag": ["2.0"]},
        {"repo": ["127.0.0.1:5000/app"]},
        {"repo": ["app"], "tag": ["3"]},
    ]


def test_env_and_label_changes_go_one_pair_each() -> None:
    assert import_changes([
        "ENV A=1 B=two", 'ENV C="three words" D=4', "LABEL x=y z=w", 'CMD ["sh"]',
        "ENV LEGACY value with spaces", "WORKDIR /etc", 'ENV BAD="unbalanced',
    ]) == [
        "ENV A=1", "ENV B=two", "ENV C=three words", "ENV D=4", "LABEL x=y", "LABEL z=w",
        'CMD ["sh"]', "ENV LEGACY value with spaces", "WORKDIR /etc", 'ENV BAD="unbalanced',
    ]


async def test_import_sends_the_tag_in_the_name_and_splits_env(
    docker: Docker, service: FakeService
) -> None:
    async def reply(request: web.Request) -> web.StreamResponse:
        await request.read()
        return service.json({"status": "sha256:" + "ef" * 32})

    service.routes["POST", "/images/create"] = reply
    image_id = await docker.images.import_(b"tar", repository="app", tag="one",
                                           changes=["ENV A=1 B=2"])
    assert image_id == "sha256:" + "ef" * 32
    (query,) = service.sent("POST", "/images/create")
    assert query["repo"] == ["app:one"] and "tag" not in query
    assert query["changes"] == ["ENV A=1", "ENV B=2"]


async def test_image_ids_come_with_their_algorithm(docker: Docker, service: FakeService) -> None:
    bare = "12" * 32

    async def history(request: web.Request) -> web.Response:
        return service.json([{"Id": bare, "Created": 1, "Tags": None, "Size": 10}])

    async def remove(request: web.Request) -> web.Response:
        return service.json([{"Untagged": "docker.io/library/app:1"}, {"Deleted": bare}])

    async def prune(request: web.Request) -> web.Response:
        return service.json({"ImagesDeleted": [{"Deleted": bare}], "SpaceReclaimed": 10})

    service.routes["GET", "/images/app/history"] = history
    service.routes["DELETE", "/images/app"] = remove
    service.routes["POST", "/images/prune"] = prune
    assert (await docker.images.history("app"))[0].id == f"sha256:{bare}"
    assert await docker.images.remove("app") == [
        ImageDeleteResponseItem(untagged="docker.io/library/app:1"),
        ImageDeleteResponseItem(deleted=f"sha256:{bare}"),
    ]
    report = await docker.images.prune()
    assert report.images_deleted == [ImageDeleteResponseItem(deleted=f"sha256:{bare}")]


async def test_pruning_every_unused_image_uses_podmans_own_endpoint(
    docker: Docker, service: FakeService
) -> None:
    async def reply(request: web.Request) -> web.Response:
        return service.json([{"Id": "34" * 32, "Size": 11}, {"Id": "56" * 32, "Size": 5}])

    service.routes["POST", "/libpod/images/prune"] = reply
    report = await docker.images.prune(filters={"label": "a=1"}, dangling_only=False)
    assert report.images_deleted == [ImageDeleteResponseItem(deleted=f"sha256:{'34' * 32}"),
                                     ImageDeleteResponseItem(deleted=f"sha256:{'56' * 32}")]
    assert report.space_reclaimed == 16
    (query,) = service.sent("POST", "/libpod/images/prune")
    assert query["all"] == ["1"] and filters_of(query) == {"label": ["a=1"]}
    assert service.sent("POST", "/images/prune") == []


async def test_load_names_every_image_of_one_message(
    docker: Docker, service: FakeService
) -> None:
    async def reply(request: web.Request) -> web.StreamResponse:
        await request.read()
        return service.json({"stream": "Loaded image: docker.io/library/a:1,"
                                       "docker.io/library/b:2\n"})

    service.routes["POST", "/images/load"] = reply
    assert await docker.images.load(b"tar") == ["docker.io/library/a:1", "docker.io/library/b:2"]


# ---------------------------------------------------------------------------------------------
# The documentation of every difference
# ---------------------------------------------------------------------------------------------


def test_the_engines_guide_names_every_podman_rule() -> None:
    """docs/engines.md's Podman table names, in its last column, each rule of
    ``aiodockersock/_podman.py`` (every public name there), and no rule that is not there."""
    from aiodockersock import _podman

    guide = (Path(__file__).resolve().parent.parent / "docs" / "engines.md").read_text()
    section = guide.split("## Podman", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ")][2:]  # past the head
    assert rows, "docs/engines.md has no Podman table"
    named: set[str] = set()
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert len(cells) == 4, f"a Podman table row without its rule column: {row}"
        named |= {name for name in cells[3].replace("`", "").split(", ") if name != "—"}
    rules = set(_podman.__all__)
    assert rules - named == set(), "Podman rules the guide's table does not name"
    assert named - rules == set(), "names in the guide's table that _podman.py does not hold"
