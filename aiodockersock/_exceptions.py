"""The error tree of aiodockersock.

Every exception the library raises derives from :class:`DockerError`; no aiohttp or msgspec
exception reaches a caller::

    DockerError
    ├── APIError                the Engine answered with an error status
    │   ├── BadRequest          400: bad parameter or body
    │   ├── NotFound            404: no such container, image, …
    │   ├── Forbidden           403: not allowed (a network in use, a read-only path, …)
    │   ├── Conflict            409: name in use, container running, …
    │   ├── NotSupported        the engine does not implement the call (Podman lacks a few)
    │   └── ServerError         5xx: the daemon failed
    │       ├── RegistryUnreachable  the daemon cannot reach a registry
    │       └── SwarmUnavailable     503: the node's swarm state refuses the call
    │           ├── NotSwarmManager  the node is no swarm manager (a worker)
    │           │   └── NotInSwarm   the node is in no swarm at all: init or join one
    │           └── SwarmLocked      the manager is locked: unlock it with its key
    ├── DockerConnectionError   no daemon: socket missing, permission denied, refused, reset
    │   ├── DockerTimeoutError  the daemon did not answer within the request timeout
    │   ├── StreamBroken        a stream's connection was lost and could not be resumed
    │   └── ClientLimitReached  a limit on this side (``Limits``, open files) refused a connection
    ├── StreamClosed            a stream was used after it was closed
    ├── EventsLost              an event stream cannot prove it missed nothing
    ├── SubscriberTooSlow       an event hub cut off a subscriber that fell behind
    ├── InvalidArgument         a value was rejected before anything was sent (also ValueError)
    ├── UnsupportedAPIVersion   the daemon is older than the oldest API this library supports
    ├── DecodeError             a response body that is not what the Engine API promises
    │   └── ResponseTooLarge    an answer larger than the client reads (``max_response``)
    ├── PrivilegesNotGranted    a plugin asks for privileges the caller did not grant
    ├── ProgressError           a pull, push, build or load failed after it had started
    │   ├── RegistryAuthError   a registry refused the credentials (pull, push, login, inspect)
    │   └── BuildError          a BuildKit build failed: the step, its last output lines
    ├── ArchiveError            a tar archive could not be read or extracted (malformed, clashing)
    ├── ContainerError          ``containers.run()``: the container exited with a non-zero code
    ├── ServiceFailed           ``services.wait_converged()``: tasks were rejected or kept failing
    └── WaitTimeout             ``containers.wait_for()``, ``services.wait_converged()`` ran out
                                of time (also a TimeoutError)

Messages say what happened and, where there is one, what to do about it. An :class:`APIError`
keeps the daemon's own message unchanged in ``.message``.

The class says what went wrong, whatever the engine: Podman's Docker-compatible service answers
many client errors with ``500`` (a container in the wrong state, a name in use, an unknown
filter), and those are raised as the class Docker's status would give (``Conflict``,
``BadRequest``), keeping Podman's own status in ``.status``.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "ArchiveError",
    "BadRequest",
    "BuildError",
    "ClientLimitReached",
    "Conflict",
    "ContainerError",
    "DecodeError",
    "DockerConnectionError",
    "DockerError",
    "DockerTimeoutError",
    "EventsLost",
    "Forbidden",
    "InvalidArgument",
    "NotFound",
    "NotInSwarm",
    "NotSupported",
    "NotSwarmManager",
    "PrivilegesNotGranted",
    "ProgressError",
    "RegistryAuthError",
    "RegistryUnreachable",
    "ResponseTooLarge",
    "ServerError",
    "ServiceFailed",
    "StreamBroken",
    "StreamClosed",
    "SubscriberTooSlow",
    "SwarmLocked",
    "SwarmUnavailable",
    "UnsupportedAPIVersion",
    "WaitTimeout",
]


class DockerError(Exception):
    """The root of every error aiodockersock raises."""


class APIError(DockerError):
    """The Engine answered a request with an error status.

    Attributes:
        status: the HTTP status code (e.g. 404).
        message: the daemon's own message, exactly as it sent it.
        method: the HTTP method of the request (``"GET"``).
        path: the request path that was sent, without the query string
            (``"/v1.45/containers/x/json"``).
    """

    def __init__(self, status: int, message: str, *, method: str, path: str) -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        super().__init__(f"{status} {method} {path}: {message}")


class BadRequest(APIError):
    """400: the daemon rejected a parameter or the request body."""


class NotFound(APIError):
    """404: the container, image, network, … does not exist."""


class Forbidden(APIError):
    """403: the daemon refuses the operation (removing a network in use or a predefined one,
    writing to a read-only path, …)."""


class Conflict(APIError):
    """409: the request conflicts with the object's state (name in use, container running…).

    Also an update of a swarm object (swarm, node, service, secret, config) that names a
    version other than the object's current one: dockerd answers that with 500 "update out of
    sequence" (``.status`` stays 500); read the object again and retry.
    """


class NotSupported(APIError):
    """The engine does not implement this call: it answered ``404`` with no error of its own,
    as for a path it has no route for, or said it does not support it.

    Podman's Docker-compatible service lacks a few of Docker's endpoints (``POST
    /containers/{id}/update`` in Podman 4.3) and all of swarm mode (a plain 404 for ``GET
    /swarm`` and ``/nodes``, a 503 "Podman does not support service" for others).
    ``.message`` keeps the engine's words (``Not Found``); the text of the exception says
    which call is missing, or why when that is known (``why``: "Podman 4.3.1 has no swarm
    mode, …"), followed by the call and the answer.
    """

    def __init__(
        self, status: int, message: str, *, method: str, path: str, why: str = ""
    ) -> None:
        super().__init__(status, message, method=method, path=path)
        if why:  # why it is missing is known: the call and the answer come after it
            self.args = (f"{why} ({method} {path}: the engine answered {status} {message!r})",)
            return
        how = ", as for an unknown path" if status == 404 else ""
        self.args = (
            f"the engine does not implement {method} {path} (it answered {status} "
            f"{message!r}{how})",
        )


class ServerError(APIError):
    """5xx: the daemon failed to carry out the request."""


class RegistryUnreachable(ServerError):
    """The daemon could not reach a registry (no network, DNS or proxy from its host).

    Raised by ``images.search``, and by ``images.pull``/``push`` when the daemon reports it
    before the progress stream starts. ``.message`` keeps the daemon's own words.

    Attributes:
        registry: the registry that could not be reached (``"docker.io"``…).
    """

    def __init__(
        self, status: int, message: str, *, method: str, path: str, registry: str, action: str
    ) -> None:
        super().__init__(status, message, method=method, path=path)
        self.registry = registry
        self.args = (
            f"the daemon cannot reach the registry {registry} to {action}: is the daemon's "
            f"host offline, or does it need a proxy? (the daemon said: {message})",
        )


class SwarmUnavailable(ServerError):
    """503: the call needs a swarm state this node is not in.

    dockerd answers every swarm call (swarm, nodes, services, tasks, secrets, configs) with 503
    when the node cannot serve it: not in a swarm, a worker, a locked manager, already in a
    swarm (on ``init``/``join``), certificates expired. The subclasses name the common cases;
    this class itself is raised for the others. ``.message`` keeps the daemon's own words; the
    text of the exception adds what to do.
    """

    #: What to do about it, appended to the exception's text.
    hint: str = ""

    def __init__(self, status: int, message: str, *, method: str, path: str) -> None:
        super().__init__(status, message, method=method, path=path)
        hint = self.hint or _swarm_hint(message)
        if hint:
            self.args = (f"{self.args[0]} — {hint}",)


def _swarm_hint(message: str) -> str:
    """What to do about a 503 swarm message the subclasses do not cover."""
    if "already part of a swarm" in message:
        return ("leave the current swarm first (docker.swarm.leave(force=True) on a manager), "
                "or use it as it is")
    if "certificates have expired" in message:
        return "leave the swarm (docker.swarm.leave(force=True)) and join it again"
    return ""


class NotSwarmManager(SwarmUnavailable):
    """503: the node is not a swarm manager, so it cannot read or change the swarm's state
    (nodes, services, tasks, secrets, configs, the swarm itself): it is a worker, or its
    manager role is still starting. Send the call to a manager, or promote this node
    (``docker.nodes.update(node_id, role="manager")`` on a manager)."""

    hint = ("send the call to a swarm manager, or promote this node to manager (on a manager: "
            "await docker.nodes.update(node_id, role='manager'))")


class NotInSwarm(NotSwarmManager):
    """503: the node is in no swarm at all (swarm mode is off): make it the first manager with
    ``await docker.swarm.init()``, or join an existing swarm with ``await
    docker.swarm.join(...)``."""

    hint = ("this engine is not in a swarm: make it a manager with await docker.swarm.init() "
            "(docker swarm init), or join a swarm with await docker.swarm.join(remote_addrs=[…], "
            "join_token=…)")


class SwarmLocked(SwarmUnavailable):
    """503: the swarm manager is locked (autolock is on and the daemon restarted): unlock it
    with ``await docker.swarm.unlock(key)``, the key :meth:`Swarm.unlock_key` gave."""

    hint = ("the swarm is locked: unlock it with await docker.swarm.unlock(key), the key "
            "docker.swarm.unlock_key() returned (docker swarm unlock-key)")


def swarm_error_class(message: str) -> type[SwarmUnavailable] | None:
    """The class of a 503 answer with this daemon message (dockerd's cluster errors), or None
    when the message is not about the swarm."""
    if "swarm" not in message.lower():
        return None
    if "not part of a swarm" in message or (
        "not a swarm manager" in message and "swarm init" in message
    ):
        return NotInSwarm
    if "not a swarm manager" in message:
        return NotSwarmManager
    if "needs to be unlocked" in message or "swarm is locked" in message.lower():
        return SwarmLocked
    return SwarmUnavailable


class DockerConnectionError(DockerError):
    """The daemon could not be reached, or the connection broke before a full answer.

    Attributes:
        address: the address that was tried (``unix:///var/run/docker.sock``, ``tcp://…``).
    """

    def __init__(self, message: str, *, address: str) -> None:
        self.address = address
        super().__init__(message)


class DockerTimeoutError(DockerConnectionError, TimeoutError):
    """The daemon did not answer an ordinary request within its timeout."""


class ClientLimitReached(DockerConnectionError):
    """A limit on the client's side refused a new connection; the daemon was not asked.

    The limit is the client's own (``Docker(limits=Limits(connections=…, streams=…))``) or the
    process's open-file limit (``ulimit -n``): the message names it and how to raise it.

    Attributes:
        limit: which limit: ``"connections"``, ``"streams"`` or ``"open files"``.
        value: its value when it was reached.
    """

    def __init__(self, message: str, *, address: str, limit: str, value: int) -> None:
        self.limit = limit
        self.value = value
        super().__init__(message, address=address)


class StreamBroken(DockerConnectionError):
    """A stream (events, logs…) lost its connection before its end and was not resumed."""


class StreamClosed(DockerError):
    """A stream was read after it had been closed."""


class EventsLost(DockerError):
    """An event stream cannot prove that no event was missed.

    Either it reconnected and the daemon's replay (its last 256 events, none from before its own
    restart) no longer reached back, or its consumer left the connection unread long enough for
    dockerd to drop events. The stream stays open: iterate on to get the events after the gap,
    and re-list what you track.

    Attributes:
        since_nano: ``time_nano`` of the last event received before the gap.
        until_nano: ``time_nano`` of the first event after a reconnect; ``None`` for a stall.
        reconnects: how many reconnects the stream had made, this one included.
    """

    def __init__(self, since_nano: int, until_nano: int | None, reconnects: int) -> None:
        self.since_nano = since_nano
        self.until_nano = until_nano
        self.reconnects = reconnects
        window = (f"between {since_nano} and {until_nano}" if until_nano is not None
                  else f"after {since_nano}")
        super().__init__(
            f"events {window} (time_nano) may have been lost (the stream reconnected without "
            "proof of continuity, or was left unread long enough for dockerd to drop events); "
            "re-list what you track, then go on iterating"
        )


class SubscriberTooSlow(DockerError):
    """An event hub subscriber (policy ``"disconnect"``) fell a full buffer behind and was cut
    off; the events buffered before that were delivered first."""


class InvalidArgument(DockerError, ValueError):
    """An argument was rejected before any request was sent; the message says which and why."""


class UnsupportedAPIVersion(DockerError):
    """The daemon speaks only API versions older than the oldest this library supports."""


class DecodeError(DockerError):
    """A response body did not decode as the Engine API promises.

    Attributes:
        data: the offending bytes (cut to the first 200 for the message).
    """

    def __init__(self, message: str, *, data: bytes) -> None:
        self.data = data
        shown = data[:200]
        more = f" … ({len(data)} bytes in all)" if len(data) > 200 else ""
        super().__init__(f"{message}: {shown!r}{more}")


class ResponseTooLarge(DecodeError):
    """An answer was larger than the client reads into memory (``Docker(max_response=…)``).

    No Engine answer comes near the default (256 MiB): a larger one is not from a daemon (or
    something in the middle of a ``tcp://`` connection sends it). ``data`` holds its first bytes.
    """

    def __init__(self, message: str, *, data: bytes) -> None:
        self.data = data
        DockerError.__init__(self, message)


class PrivilegesNotGranted(DockerError):
    """A plugin asks for privileges (host network, mounts, capabilities…) that the caller of
    ``plugins.pull`` or ``plugins.upgrade`` did not grant: nothing was installed.

    Attributes:
        remote: the plugin's reference (``registry.example/team/vol:1.0``).
        privileges: every privilege the plugin asks for (``PluginPrivilege`` structs).
        refused: those that were not granted.
    """

    def __init__(self, remote: str, privileges: list[object], refused: list[object]) -> None:
        self.remote = remote
        self.privileges = privileges
        self.refused = refused
        asked = "; ".join(_privilege_text(p) for p in refused)
        super().__init__(
            f"the plugin {remote} asks for privileges that were not granted: {asked}. Review "
            "them (plugins.privileges(remote)), then pass grant=True to grant all, grant=<the "
            "list you approved>, or grant=<a function deciding from the list>"
        )


def _privilege_text(privilege: object) -> str:
    name = getattr(privilege, "name", None) or "?"
    values = getattr(privilege, "value", None) or []
    return f"{name}: {', '.join(values)}" if values else str(name)


class ProgressError(DockerError):
    """A streamed operation (pull, push, build, load, import) failed after the daemon had
    accepted it: the failure came as an ``error`` message inside its progress stream.

    Attributes:
        message: the daemon's own message.
        code: the ``errorDetail.code`` the daemon gave, if any.
        operation: what failed (``"pull of busybox:latest"``).
        log: the last progress messages before the error, oldest first (at most 100).
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        code: int | None = None,
        log: list[object] | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.operation = operation
        self.log = log or []
        super().__init__(f"{operation} failed: {message}")


class BuildError(ProgressError):
    """A BuildKit build failed (``images.build(..., builder="buildkit")``).

    Attributes:
        step: the failed step as the Docker CLI names it (``[2/3] RUN make``), when the
            build's progress named one.
        output: its last output lines (at most 20), oldest first.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        step: str | None = None,
        output: list[str] | None = None,
        code: int | None = None,
        log: list[object] | None = None,
    ) -> None:
        super().__init__(message, operation=operation, code=code, log=log)
        self.step = step
        self.output = output or []
        if step:
            tail = "".join(f"\n  {line}" for line in self.output)
            self.args = (f"{operation} failed at {step}: {message}{tail}",)


class RegistryAuthError(ProgressError):
    """A registry refused a pull or push for want of valid credentials (none sent, a wrong
    password, no access to the repository) — whichever way the engine reported it (an HTTP 401
    or 500 up front, or an error in the progress stream). ``system.login()`` and
    ``images.distribution()`` raise it too when the registry refuses their credentials.

    Attributes:
        registry: the registry that refused (``registry.example:5000``, ``docker.io``).
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        registry: str,
        code: int | None = None,
        log: list[object] | None = None,
    ) -> None:
        self.registry = registry
        super().__init__(message, operation=operation, code=code, log=log)


class ArchiveError(DockerError):
    """A tar archive (from ``containers.copy_from``) could not be read or extracted: it is not
    a tar or is cut short, a hard link names a member it does not hold, or a member clashes with
    what is already there (a file where the archive has a directory) or cannot be written.

    Members refused as unsafe (written outside the destination, a symlink pointing out of it, a
    device or FIFO not asked for) raise :class:`InvalidArgument` instead.

    Attributes:
        member: the archive member being extracted when it failed (``None`` when the archive
            itself could not be read).
    """

    def __init__(self, message: str, *, member: str | None = None) -> None:
        self.member = member
        super().__init__(message)


class ContainerError(DockerError):
    """A container exited: non-zero from ``containers.run()``, or for good while
    ``containers.wait_for()`` awaited a running state or a health status.

    Attributes:
        container_id: the container's id.
        exit_code: its exit status.
        stderr: what it wrote to standard error (the whole of it).
    """

    def __init__(self, container_id: str, exit_code: int, stderr: bytes) -> None:
        self.container_id = container_id
        self.exit_code = exit_code
        self.stderr = stderr
        tail = stderr[-500:].decode("utf-8", "replace").strip()
        detail = f": {tail}" if tail else ""
        super().__init__(f"container {container_id[:12]} exited with status {exit_code}{detail}")


class ServiceFailed(DockerError):
    """``services.wait_converged()`` gave up early: tasks of the service's current spec were
    rejected or kept failing, or its rolling update was paused.

    Attributes:
        service: the service's name (its id if it has none).
        task_id: the task whose error is given (``None`` when no task failed: a paused update).
        task_error: the task's own error message as the node reported it (``"task: non-zero
            exit (1)"``, ``"No such image: …"``), or the update's status message.
        failures: how many tasks of the current spec failed or were rejected.
    """

    def __init__(
        self, service: str, task_id: str | None, task_error: str, failures: int, *,
        state: str | None = None,
    ) -> None:
        self.service = service
        self.task_id = task_id
        self.task_error = task_error
        self.failures = failures
        which = f"task {task_id[:12]} {state or 'failed'}" if task_id else "update paused"
        super().__init__(
            f"service {service} does not converge: {which}: {task_error} ({failures} failed "
            "task(s) of the current spec; see docker.tasks.list(filters={'service': ...}))"
        )


class WaitTimeout(DockerError, TimeoutError):
    """``containers.wait_for()`` or ``services.wait_converged()`` gave up: the container or
    service did not reach the awaited state in time.
    """
