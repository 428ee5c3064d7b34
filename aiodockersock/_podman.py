"""Podman compatibility: every way Podman's Docker-compatible service differs that the library
absorbs, in one place.

Podman 4.3's ``podman system service`` speaks the Engine API, but not quite as dockerd does. The
library gives the same results whatever the engine: this module holds the rules (pure code and
data), and each module that applies one keeps only the decision (the ``if``) and any extra
request it makes. Each line below says what Podman does → what the library does [where].

Telling the engines apart
  - It marks every answer with a ``Libpod-Api-Version`` header (its version); dockerd never
    sends it → :func:`is_podman_answer`; the transport notes the engine from its first answer
    [``Transport.note_engine``, ``is_podman``, ``podman_version``], and the ping reports it
    [``PingInfo.podman_version``, ``models/system.py``].

Errors
  - It answers several client errors with 500, the cause at the end of the message → raised as
    the class Docker's status gives (:data:`ERROR_CAUSES`, :func:`podman_error_class`; the
    ``status`` stays 500) [``Transport.raise_for_status``].
  - It lacks some endpoints (``POST /containers/{id}/update`` in 4.3), and its router answers
    an unknown route with a plain-text ``404 Not Found`` (``405 Method Not Allowed`` when the
    path exists for another method, as ``PUT /volumes/{name}``), and a route it declares
    without implementing it (``GET /distribution/{name}/json``) with a JSON ``404`` "Path …
    is not supported" → ``NotSupported`` instead of ``NotFound`` (:func:`is_missing_endpoint`)
    [``Transport.raise_for_status``].
  - It has no plugins: ``GET /plugins`` answers a JSON ``404`` "Path /v1.41/plugins is not
    supported", the other ``/plugins/…`` paths the plain-text one → ``NotSupported`` as well
    (:func:`is_missing_endpoint`) [``Transport.raise_for_status``].
  - Creating a network whose name is taken answers 500 "network already exists" →
    ``Conflict``, as Docker's 409 (:data:`ERROR_CAUSES`) [``Networks.create``].
  - Connecting a container in network mode ``none`` answers 500 ``… invalid network mode``, a
    volume name or option it refuses ``names must match …: invalid argument`` or ``invalid
    mount option … for driver 'local': invalid argument`` → ``BadRequest``, as Docker's 400;
    connecting a container twice answers 500 ``network is already connected``, removing a
    network in use ``network is being used``, its default one (listed as ``bridge``) ``default
    network podman cannot be removed`` → ``Forbidden``, as Docker's 403
    (:data:`ERROR_CAUSES`) [``Networks.connect``, ``Networks.remove``, ``Volumes.create``].
  - It has no swarm mode: its router answers ``/swarm``, ``GET /nodes``, ``/services``,
    ``/tasks`` and ``/configs`` with a plain 404 and the paths below them with a 503 "Podman
    does not support service" → ``NotSupported`` saying Podman has no swarm mode and what to
    use instead (:func:`no_swarm_mode`) [``Transport.raise_for_status``]. Its secrets are its
    own, kept outside any swarm: listed, created, inspected and removed as on Docker, but
    ``POST /secrets/{id}/update`` answers 501 "update is not supported" → ``NotSupported``
    naming Podman (:data:`NO_SECRET_UPDATE`) [``Secrets.update``].
  - ``GET /containers/{id}/top`` of a stopped container answers 200 with an empty body →
    ``Conflict``, as Docker's 409 [``Containers.top``].
  - ``top`` runs ``ps`` inside the container (Docker runs it on the host), so for a running
    container whose image has no ``ps`` it answers 200 with an empty body too → the
    container is inspected: running, it is a ``ServerError`` saying so (:data:`TOP_WITHOUT_PS`)
    [``Containers.top``].

Containers
  - It lists containers in no particular order unless given a limit → without a limit the list
    is asked for with the largest one, and without ``all`` with the ``status`` filter that
    gives what Docker lists (:func:`sorted_listing`) [``Containers.list``].
  - It lists a container that has just exited as ``stopped`` for a moment, until its cleanup
    (Docker: ``exited`` at once) → listed as ``exited`` (:data:`LISTING_STATES`,
    :func:`docker_states`) [``Containers.list``; ``containers.watch``, ``stats_all``,
    ``logs_all``].
  - ``top`` sends ``ps``'s header as one title and each row as one string → split into
    columns, the command keeping its spaces (:func:`split_top`; a Docker answer is left as it
    is) [``Containers.top``].
  - One-shot stats (``stream=false``) take one reading, with no earlier one to compare with →
    two are asked for, :data:`STATS_GAP` apart, the first put in ``precpu_stats`` and
    ``preread`` (:func:`with_baseline`) [``Containers.stats``].
  - Stats name the id ``Id`` and the name without its ``/`` → read from there, the slash added
    [``ContainerStats.__post_init__``, ``models/stats.py``].
  - It encodes a path's stat (the ``X-Docker-Container-Path-Stat`` header) in URL-safe base64
    (``-``, ``_``; Docker: ``+``, ``/``) → both alphabets are read (:func:`path_stat_json`)
    [``decode_path_stat`` in ``_bodies.py``, every engine].
  - A path's stat names a symlink after its target and gives every path a ``linkTarget`` →
    named after the path, a link target for symlinks only (:func:`podman_path_stat`)
    [``Containers.stat_path``, ``ArchiveStream.open`` in ``_bodies.py``].
  - ``PUT /containers/{id}/archive`` creates a missing target directory → the path is looked
    up first (``HEAD``), so a missing one is ``NotFound`` as on Docker
    [``Containers._put_archive``].
  - Health checks run from systemd timers, so without systemd none ever runs → a
    ``wait_for(health=…)`` that times out on a never-checked container says so
    (:data:`HEALTH_CHECK_HINT`) [``Containers.wait_for``].
  - A forced removal of a running container stops it with its stop timeout (SIGTERM, then a
    wait; Docker kills it at once) → it is killed first; killed, an auto-remove container that is
    gone when the removal comes is removed [``Containers.remove``].

Networks and volumes
  - It names a network's MTU option ``mtu`` (Docker: ``com.docker.network.driver.mtu``, the
    name it was created with) → read back under Docker's name (:data:`NETWORK_OPTIONS`,
    :func:`docker_network_options`) [``Networks.inspect``, ``Networks.list``].
  - It ignores the ``scope`` of a network inspect (its networks are all ``local``) → a network
    of another scope is ``NotFound``, as on Docker [``Networks.inspect``].
  - It has no ``type`` filter for networks (``builtin``/``custom``; it answers 500 "invalid
    filter \"type\"") nor built-in ``host`` and ``none`` networks → ``NotSupported`` naming
    Podman (:data:`NO_NETWORK_TYPE_FILTER`) [``Networks.list``].
  - Its volume ``label`` filter matches any one of several labels (Docker: all) → the
    ``label`` filter is not sent to Podman; volumes are filtered in the client as Docker
    filters them (:func:`split_label_filter`, :func:`has_labels`) [``Volumes.list``].

Images
  - Image ids come bare (64 hex digits, no ``sha256:``) in history, removal and prune answers
    → given their algorithm (:func:`sha256_id`, :func:`history_ids`, :func:`deleted_ids`)
    [``Images.history``, ``Images.remove``, ``Images.prune``].
  - Its Docker-compatible prune removes dangling images only, whatever the ``dangling``
    filter → ``dangling_only=False`` goes to its own ``POST /libpod/images/prune?all=true``,
    whose answer (:class:`PrunedImage`) becomes Docker's (:func:`prune_report`)
    [``Images.prune``, ``Images._podman_prune_all``].
  - An import's ``ENV A=1 B=two`` (or ``LABEL``) change is applied as one pair, ``A`` =
    ``1 B=two``, quotes kept → sent as one unquoted pair per change (:func:`import_changes`)
    [``Images.import_``].
  - ``POST /images/{name}/tag`` needs the tag in the ``tag`` parameter (not in ``repo``) → a
    ``repo:tag`` is split [``Images.tag``, every engine].
  - An import honours a tag only as part of the repository name → sent as ``repo:tag``
    [``Images.import_``, every engine].
  - A load names every image it loaded in one message, ``Loaded image: a:1,b:2`` → split at
    the commas [``Images.load``, every engine].
  - A failed build step gives no error code, only ``… exit status N`` at the end of the
    message → the code is read from there (:func:`exit_status_code`)
    [``ProgressStream._check`` in ``_bodies.py``].

Events
  - Its ``label`` event filter matches a ``key=value`` only, and any one of several → the
    ``label`` filter is not sent to Podman; its events are filtered in the client as Docker
    filters them (``key`` or ``key=value``, all must match: :func:`split_label_filter`,
    :func:`has_labels`) [``EventStream`` in ``_streams.py``: ``events()``, the hub,
    ``containers.watch``].
  - A container's removal event is ``remove`` (Docker's: ``destroy``), and its ``event``
    filter knows a container's exit as ``died`` (it sends ``die``) → its events are renamed as
    Docker names them, and an ``event`` filter's ``destroy`` and ``die`` sent as Podman's
    names (:data:`EVENT_ACTIONS`, :data:`EVENT_FILTER_NAMES`, :func:`event_filters`,
    :func:`docker_event`) [``EventStream`` in ``_streams.py``].
  - It sends container events Docker never sends (``init`` before ``start``, ``cleanup``)
    → dropped unless the ``event`` filter asks for them (:data:`EXTRA_ACTIONS`,
    :func:`docker_event`) [``EventStream``].
  - Its ``since`` is exclusive (Docker's: inclusive), so a resume would not see again the
    events at its boundary, the proof that nothing was missed → a resume on Podman asks from a
    nanosecond earlier (:func:`resume_since`) [``EventStream._connect``].
  - An ``until`` already past ends its stream at once, with nothing (Docker replays the
    window) → it is sent :data:`UNTIL_MARGIN` from now, and the events past the asked
    ``until`` are dropped (:func:`podman_until`) [``EventStream``].

Execs, attach and their streams
  - A followed log (``logs(follow=True)``) of a quiet container gets no response head until
    the container writes → a followed stream waits for its head as long as it takes, as it
    waits for its body (``logs(follow=True)``, ``stats(stream=True)``); a finite body
    (``logs()``, ``export``, ``get_archive``) keeps the request timeout for its head
    [``Containers._get``, every engine].
  - It never records the exit of an exec started detached (it stays "running") → a
    ``wait`` that times out says so (:data:`DETACHED_EXEC_HINT`) [``Execs.wait``].
  - It sees detach keys only one per read → they are sent one at a time,
    :data:`DETACH_KEY_GAP` apart [``_detach`` in ``_attach.py``].
  - A TTY session does not end when stdin is half-closed → ``close_stdin`` closes the
    connection, as Docker would end the session [``AttachStream.close_stdin``].
  - In a replay of a container's logs (``logs=True``) each line's newline comes after its
    frame, outside it → taken as the end of the frame before it
    (``FrameDecoder(stray_newlines=True)`` in ``_framing.py``) [``AttachStream.open``].
  - It sends the output streams that were not asked for → dropped
    [``Session.unwanted``, ``AttachStream``, every engine].
  - When a process exits without reading all of its input, its service sends its own error
    as a stderr frame: ``Error: write unixpacket …/attach: write: broken pipe`` (the input
    could not be delivered: Docker says nothing) → dropped; now and then (a few times in a
    hundred) ``Error: read unixpacket …/attach: read: connection reset by peer`` instead, and
    then output of the process may be lost (containers/podman#11446) → with stdin attached
    the stream raises ``StreamBroken`` saying so; without stdin (seen once, for an exec whose
    command could not start, nothing lost) it is dropped too (:func:`attach_failure`)
    [``AttachStream``].

Differences left as they are (documented where they show): its stats stream sends a sample every
5 s (Docker: every second); an attach session with stdin closes a container's stdin when it
ends, ``StdinOnce`` or not; it forgets the pid of an exec that has exited; a network is never
``attachable`` (a swarm notion); it reports no endpoint's ``IPAMConfig`` (the static address
asked for: the address itself is given), ``DriverOpts`` or endpoint id, no pool's ``IPRange``
(honoured) or ``AuxiliaryAddresses`` (dropped), and a container's ``NetworkID`` is the network's
name; it drops network options it does not know, with a warning in the create answer (Docker
keeps them); it takes a volume's ``o=size=…`` for a disk quota, even for a tmpfs (refused
without project quotas); its volume prune removes volumes created with driver options too
(Docker keeps them); its image events name
images fully qualified; its ``info`` has no count of event listeners.

"""

from __future__ import annotations

import base64
import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec

from ._exceptions import APIError, BadRequest, Conflict, Forbidden
from .models import (
    ContainerStats,
    ContainerSummary,
    ContainerTopResponse,
    EventMessage,
    HistoryResponseItem,
    ImageDeleteResponseItem,
    ImagePruneResponse,
    PathStat,
)

__all__ = [
    "DETACHED_EXEC_HINT",
    "DETACH_KEY_GAP",
    "ERROR_CAUSES",
    "EVENT_ACTIONS",
    "EVENT_FILTER_NAMES",
    "EXTRA_ACTIONS",
    "HEALTH_CHECK_HINT",
    "LIBPOD_HEADER",
    "LISTING_STATES",
    "LIST_LIMIT",
    "NETWORK_OPTIONS",
    "NO_NETWORK_TYPE_FILTER",
    "NO_SECRET_UPDATE",
    "STATS_GAP",
    "TOP_WITHOUT_PS",
    "UNTIL_MARGIN",
    "PrunedImage",
    "attach_failure",
    "deleted_ids",
    "docker_event",
    "docker_network_options",
    "docker_states",
    "event_filters",
    "exit_status_code",
    "has_labels",
    "history_ids",
    "import_changes",
    "is_missing_endpoint",
    "is_podman_answer",
    "no_swarm_mode",
    "path_stat_json",
    "podman_error_class",
    "podman_path_stat",
    "podman_until",
    "prune_report",
    "resume_since",
    "sha256_id",
    "sorted_listing",
    "split_label_filter",
    "split_top",
    "with_baseline",
]

# -- telling the engines apart ----------------------------------------------------------------

#: The header Podman's service puts on every answer (its own version); dockerd never sends it.
LIBPOD_HEADER: Final = "Libpod-Api-Version"


def is_podman_answer(headers: Mapping[str, str]) -> bool:
    """Whether an answer (its headers) came from Podman's service."""
    return LIBPOD_HEADER in headers


# -- errors -----------------------------------------------------------------------------------

#: Podman answers these client errors with 500; its cause (the end of the message, or the part
#: before a last ``: state``) says which, and Docker's status for the same error gives the class
#: raised.
ERROR_CAUSES: Final[tuple[tuple[str, type[APIError]], ...]] = (
    ("container state improper", Conflict),  # pause a paused one, remove a running one …
    ("exec session state improper", Conflict),  # start an exec twice
    ("that name is already in use", Conflict),  # create with a taken name
    ("network already exists", Conflict),  # create a network with a taken name
    ("invalid network mode", BadRequest),  # connect a container in network mode none
    ("network is already connected", Forbidden),  # connect a container twice
    ("network is being used", Forbidden),  # remove a network containers use
    ("default network podman cannot be removed", Forbidden),  # remove the pre-defined one
    ("names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument", BadRequest),  # a volume's
    ("for driver 'local': invalid argument", BadRequest),  # a volume option it does not know
    ("is an invalid filter", BadRequest),
    ("invalid reference format", BadRequest),  # tag with a malformed name
)


def podman_error_class(message: str) -> type[APIError] | None:
    """The class Docker's status gives the error Podman answered with 500, if its message ends
    with one of the :data:`ERROR_CAUSES`, or with one and the state it found (killing a
    container that stopped a moment before: ``container state improper: stopped``)."""
    head, sep, _ = message.rpartition(": ")
    for cause, cls in ERROR_CAUSES:
        if message.endswith(cause) or (sep and head.endswith(cause)):
            return cls
    return None


_UNSUPPORTED_PATH = re.compile(rb'"message":\s*"Path [^"]* is not supported"')


def is_missing_endpoint(status: int, body: bytes, content_type: str) -> bool:
    """Whether an error answer says there is no such endpoint: the router's plain-text ``404
    Not Found`` or ``405 Method Not Allowed`` (Podman's service lacks a few of Docker's
    endpoints), or the ``404`` "Path … is not supported" of a route Podman declares but does
    not implement (``GET /distribution/{name}/json``) — not an engine's JSON error about a
    missing object."""
    if status == 404 and content_type.startswith("application/json"):
        return _UNSUPPORTED_PATH.search(body) is not None
    plain = content_type.startswith("text/plain")
    return plain and (
        (status == 404 and body.strip() == b"Not Found")
        or (status == 405 and body.strip() == b"Method Not Allowed")
    )


_SWARM_PATH: Final = re.compile(r"(?:/v[0-9.]+)?/(swarm|nodes|services|tasks|configs)\b")


def no_swarm_mode(path: str, version: str | None) -> str | None:
    """What a ``NotSupported`` error says about a swarm call (``path`` under ``/swarm``,
    ``/nodes``, ``/services``, ``/tasks`` or ``/configs``) Podman (``version``) does not
    implement; ``None`` for any other path (its secrets are its own: ``/secrets`` works)."""
    found = _SWARM_PATH.match(path)
    if found is None:
        return None
    podman = f"Podman {version}" if version else "Podman"
    what = "swarm to init, join or inspect" if found[1] == "swarm" else found[1]
    return (
        f"{podman} has no swarm mode, so it has no {what} (swarm mode cannot be turned on: "
        "there is no docker.swarm.init() for it); swarm calls need a Docker engine that is a "
        "swarm manager"
    )


#: Why a secret cannot be updated on Podman (its secrets are its own, outside any swarm).
NO_SECRET_UPDATE: Final = (
    "Podman cannot update a secret (its secrets are its own, outside any swarm): remove it and "
    "create it again with the new labels"
)


# -- networks and volumes ---------------------------------------------------------------------

#: Network driver options Podman keeps under a name of its own → Docker's name for them.
NETWORK_OPTIONS: Final[Mapping[str, str]] = {"mtu": "com.docker.network.driver.mtu"}


def docker_network_options(options: dict[str, str] | None) -> dict[str, str] | None:
    """A network's options as Docker names them (:data:`NETWORK_OPTIONS`)."""
    if not options or not any(key in NETWORK_OPTIONS for key in options):
        return options
    return {NETWORK_OPTIONS.get(key, key): value for key, value in options.items()}


#: Why ``networks.list(filters={"type": …})`` is refused on Podman.
NO_NETWORK_TYPE_FILTER: Final = (
    "Podman has no 'type' filter for networks (builtin or custom), nor the built-in host and "
    "none networks Docker lists: filter by 'name', 'id', 'driver' or 'label' instead"
)


# -- containers -------------------------------------------------------------------------------

#: The limit that makes Podman's service sort the containers it lists (newest first).
LIST_LIMIT: Final = 2**31 - 1


def sorted_listing(
    all: bool, filters: Mapping[str, Any] | None
) -> tuple[int, Mapping[str, Any] | None]:
    """The ``limit`` and ``filters`` that make Podman list what Docker lists, newest first: the
    largest limit (which implies ``all``), and without ``all`` a ``status`` filter for the
    running and paused containers (unless ``filters`` has its own)."""
    if not all and "status" not in (filters or {}):
        filters = {**(filters or {}), "status": ["running", "paused"]}
    return LIST_LIMIT, filters


#: Container states Podman lists that Docker does not: Podman's → Docker's.
LISTING_STATES: Final = {"stopped": "exited"}


def docker_states(listed: list[ContainerSummary]) -> list[ContainerSummary]:
    """A Podman listing with each state as Docker lists it (:data:`LISTING_STATES`)."""
    return [
        msgspec.structs.replace(c, state=LISTING_STATES[c.state])
        if c.state in LISTING_STATES else c
        for c in listed
    ]


def split_top(top: ContainerTopResponse) -> ContainerTopResponse:
    """Podman's service sends ``ps``'s header as one title and each row as one string: split
    them into columns as Docker does (the last column, the command, keeps its spaces). Any
    other answer is returned as it is."""
    titles, rows = top.titles, top.processes
    if not titles or len(titles) != 1 or len(titles[0].split()) < 2:
        return top
    if not all(len(row) == 1 for row in rows or []):
        return top
    columns = titles[0].split()
    return ContainerTopResponse(
        titles=columns,
        processes=[row[0].split(None, len(columns) - 1) for row in rows or []],
    )


#: Why a running container's ``top`` came back empty from Podman.
TOP_WITHOUT_PS: Final = (
    "Podman answered 200 with nothing for the processes of running container {container}: "
    "it runs ps inside the container, and its image most likely has no ps (Docker runs ps on "
    "the host; install procps or busybox in the image, or use execs to look)"
)


#: Seconds between the two readings of a one-shot stats sample on Podman (Docker's own gap).
STATS_GAP: Final = 1.0


def with_baseline(sample: ContainerStats, earlier: ContainerStats) -> ContainerStats:
    """``sample`` with ``earlier`` as its previous reading (``precpu_stats``, ``preread``),
    which Podman's one-shot stats leave empty."""
    return msgspec.structs.replace(sample, preread=earlier.read, precpu_stats=earlier.cpu_stats)


_URLSAFE: Final = str.maketrans("-_", "+/")


def path_stat_json(header: str) -> bytes:
    """The JSON of an ``X-Docker-Container-Path-Stat`` header, in either base64 alphabet:
    Docker's standard one (``+``, ``/``) or Podman's URL-safe one (``-``, ``_``).

    Raises:
        binascii.Error: the header is not base64.
    """
    return base64.b64decode(header.strip().translate(_URLSAFE), validate=True)


def podman_path_stat(stat: PathStat, path: str) -> PathStat:
    """Podman's path stat as Docker's: named after ``path`` itself (Podman names a symlink
    after its target), and a ``link_target`` for symlinks only (Podman gives every path one,
    the path resolved)."""
    name = posixpath.basename(path.rstrip("/")) or "/"
    target = stat.link_target if stat.is_symlink else ""
    if (name, target) == (stat.name, stat.link_target):
        return stat
    return msgspec.structs.replace(stat, name=name, link_target=target)


#: Added to a health wait's timeout message on Podman when no check has run.
HEALTH_CHECK_HINT: Final = (
    "; Podman runs health checks from systemd timers, and none has run: "
    "without systemd, run them yourself (podman healthcheck run)"
)

# -- images -----------------------------------------------------------------------------------

_BARE_ID: Final = re.compile(r"[0-9a-f]{64}")


def sha256_id(image_id: str | None) -> str | None:
    """``sha256:…`` for a bare 64-hex image id (Podman's form), any other id unchanged."""
    if image_id is not None and _BARE_ID.fullmatch(image_id):
        return f"sha256:{image_id}"
    return image_id


def history_ids(history: list[HistoryResponseItem]) -> list[HistoryResponseItem]:
    """An image's history with :func:`sha256_id` ids."""
    return [msgspec.structs.replace(h, id=sha256_id(h.id)) for h in history]


def deleted_ids(items: Sequence[ImageDeleteResponseItem]) -> list[ImageDeleteResponseItem]:
    """Removal (or prune) items with :func:`sha256_id` ids for what was deleted."""
    return [
        msgspec.structs.replace(item, deleted=sha256_id(item.deleted)) if item.deleted else item
        for item in items
    ]


class PrunedImage(msgspec.Struct, rename="pascal"):
    """One item of Podman's ``POST /libpod/images/prune`` answer."""

    id: str | None = None
    size: int | None = None
    err: str | None = None


def prune_report(pruned: Sequence[PrunedImage]) -> ImagePruneResponse:
    """Podman's own prune answer as Docker's (ids with their algorithm, the bytes summed)."""
    return ImagePruneResponse(
        images_deleted=[ImageDeleteResponseItem(deleted=sha256_id(p.id)) for p in pruned],
        space_reclaimed=sum(p.size or 0 for p in pruned),
    )


def import_changes(changes: Sequence[str]) -> list[str]:
    """Podman applies ``ENV A=1 B=two`` (and ``LABEL``) as one pair, ``A`` = ``1 B=two``, and
    keeps quotes in values: send one pair per change, unquoted, as Docker reads them."""
    out: list[str] = []
    for change in changes:
        instruction, _, rest = change.strip().partition(" ")
        if instruction.upper() in ("ENV", "LABEL"):
            try:
                words = shlex.split(rest)
            except ValueError:  # unbalanced quotes: Podman may say what it thinks
                words = []
            if words and all("=" in word for word in words):
                out += [f"{instruction} {word}" for word in words]
                continue
        out.append(change)
    return out


_EXIT_STATUS: Final = re.compile(r"while running runtime: exit status (\d+)\s*$")


def exit_status_code(error: str) -> int | None:
    """The exit code a failed build step's message ends with (Podman gives no error code:
    ``… while running runtime: exit status 3``), if it has one."""
    found = _EXIT_STATUS.search(error)
    return int(found[1]) if found else None


# -- events -----------------------------------------------------------------------------------


def split_label_filter(
    filters: Mapping[str, str | Sequence[str]] | None,
) -> tuple[Mapping[str, str | Sequence[str]] | None, list[str]]:
    """``filters`` without its ``label`` key, and the labels it asked for (``"k"`` or
    ``"k=v"``), for Podman, whose service gets the ``label`` filter wrong."""
    if not filters or "label" not in filters:
        return filters, []
    wanted = filters["label"]
    labels = [wanted] if isinstance(wanted, str) else [str(label) for label in wanted]
    rest = {key: value for key, value in filters.items() if key != "label"}
    return rest or None, labels


def has_labels(attributes: Mapping[str, str] | None, labels: Sequence[str]) -> bool:
    """Whether an event's actor attributes carry every label: ``"k"`` (present, any value) or
    ``"k=v"`` (present with that value) — Docker's ``label`` event filter."""
    attributes = attributes or {}
    for label in labels:
        key, eq, value = label.partition("=")
        if key not in attributes or (eq and attributes[key] != value):
            return False
    return True


#: Container actions Podman names otherwise than Docker: Podman's → Docker's.
EVENT_ACTIONS: Final = {"remove": "destroy"}

#: ``event`` filter values Podman's service knows by another name: Docker's → Podman's (its
#: filter matches ``died``, though the event it sends says ``die``).
EVENT_FILTER_NAMES: Final = {"destroy": "remove", "die": "died"}

#: Container actions Podman sends and Docker never does.
EXTRA_ACTIONS: Final = frozenset({"init", "cleanup"})

#: Seconds from now that an ``until`` already past is sent as to Podman (its replay of the
#: window must be over by then; the stream ends that much later).
UNTIL_MARGIN: Final = 0.5

_NS: Final = 1_000_000_000


def event_filters(
    filters: Mapping[str, str | Sequence[str]] | None,
) -> tuple[Mapping[str, str | Sequence[str]] | None, frozenset[str]]:
    """``filters`` with the ``event`` values Podman names otherwise translated
    (:data:`EVENT_FILTER_NAMES`), and the actions the caller asked for (empty: any)."""
    if not filters or "event" not in filters:
        return filters, frozenset()
    wanted = filters["event"]
    asked = [wanted] if isinstance(wanted, str) else [str(action) for action in wanted]
    sent = [EVENT_FILTER_NAMES.get(action, action) for action in asked]
    return {**filters, "event": sent}, frozenset(asked)


def docker_event(event: EventMessage, asked: frozenset[str]) -> EventMessage | None:
    """A Podman event as Docker would send it: a container action renamed
    (:data:`EVENT_ACTIONS`, ``status`` too), or ``None`` for an action Docker never sends
    (:data:`EXTRA_ACTIONS`) unless the ``event`` filter ``asked`` for it."""
    if event.type != "container":
        return event
    action = event.action or ""
    if action in EXTRA_ACTIONS:
        return event if action in asked else None
    renamed = EVENT_ACTIONS.get(action)
    if renamed is None:
        return event
    status = renamed if event.status == action else event.status
    return msgspec.structs.replace(event, action=renamed, status=status)


def resume_since(last_nano: int) -> int:
    """The ``since`` (nanoseconds) that makes Podman, whose ``since`` is exclusive, send again
    the events at ``last_nano``, as Docker's inclusive ``since`` does."""
    return last_nano - 1


def podman_until(until_nano: int, now_nano: int) -> int:
    """The ``until`` (nanoseconds) to send Podman for an asked ``until_nano``: itself if still
    ahead, else :data:`UNTIL_MARGIN` from now (Podman ends a stream whose ``until`` is past at
    once, without its replay); events past ``until_nano`` are the caller's to drop."""
    margin = now_nano + int(UNTIL_MARGIN * _NS)
    return until_nano if until_nano > margin else margin


# -- execs and attach -------------------------------------------------------------------------

#: Added to an exec wait's timeout message on Podman.
DETACHED_EXEC_HINT: Final = (
    " (Podman does not record the exit of an exec started detached; if it "
    "was, start it attached to wait for it)"
)

_ATTACH_FAILURE: Final = re.compile(
    rb"Error: [^\n]*\b(read|write) unixpacket [^\n]*/attach: [^\n]*\n?"
)


def attach_failure(stderr: bytes) -> tuple[bool, str] | None:
    """Podman's own error about its socket to the process, sent as a stderr frame.

    Returns:
        ``None`` if ``stderr`` is anything else (the process's own output); otherwise whether
        output may have been lost (reading from the process failed; a failed write is input
        the process did not read) and the error's text.
    """
    match = _ATTACH_FAILURE.fullmatch(stderr)
    if match is None:
        return None
    return match[1] == b"read", stderr.decode("utf-8", "replace").strip()


#: The pause between detach keys sent to Podman, whose service recognises a key only when it
#: arrives alone in one read.
DETACH_KEY_GAP: Final = 0.05
