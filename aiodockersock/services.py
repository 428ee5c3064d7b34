"""The services area of the Engine API: ``docker.services`` (swarm managers only).

Besides the endpoints, :meth:`Services.wait_converged` waits until a service runs as its spec
says: dockerd sends no task events, so it wakes on the events it does send (the service's own,
and those of its task containers on this node) and lists the tasks only then, plus on a slow
backstop, rather than polling every few seconds.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

from ._args import (
    Filters,
    TimeSpec,
    Versioned,
    format_time,
    retry_out_of_sequence,
    string_list,
    string_map,
)
from ._auth import RegistryAuth
from ._bodies import LogStream
from ._exceptions import InvalidArgument, NotFound, ServiceFailed, WaitTimeout
from ._streams import event_stream
from ._transport import DEFAULT, Area, QueryValue, StreamResponse
from .models.containers import Mount
from .models.events import EventMessage
from .models.secrets import Config, Secret
from .models.services import (
    ContainerSpec,
    NetworkAttachmentConfig,
    ReplicatedMode,
    Service,
    ServiceCreateResponse,
    ServiceMode,
    ServiceSpec,
    ServiceUpdateConfig,
    Task,
    TaskConfig,
    TaskFileTarget,
    TaskPlacement,
    TaskResources,
    TaskRestartPolicy,
    TaskSecret,
    TaskSpec,
)

__all__ = ["Services"]

_SERVICE_LIST = list[Service]
_TASK_LIST = list[Task]
_SECRET_LIST = list[Secret]
_CONFIG_LIST = list[Config]
_MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
#: Task states on the way to running (after them: running, or one of the end states).
_STARTING = frozenset({"new", "pending", "assigned", "accepted", "preparing", "ready", "starting"})
#: End states of a task that did not run to completion.
_FAILED = frozenset({"failed", "rejected"})
#: The label dockerd puts on a task's container, naming its service.
SERVICE_ID_LABEL = "com.docker.swarm.service.id"
#: After an event, the tasks are listed again this many seconds later while one is starting:
#: the node reports a container's start to the manager a moment after the start event.
_FOLLOW_UPS = (0.1, 0.2, 0.4, 0.8)
#: Seconds to wait after an event before listing: events close together (a scale-up's
#: starts) cost one listing, and a manager learns that a started task runs ~0.1 s after the
#: container's start event.
_DEBOUNCE = 0.15
_DEBOUNCE_MAX = 0.5
#: The label dockerd puts on a task's container, naming the task.
TASK_ID_LABEL = "com.docker.swarm.task.id"
#: A service event that only reports a rolling update's progress changes nothing we read.
_PROGRESS_ONLY = frozenset({"name", "updatestate.old", "updatestate.new"})


class _ConvergeWatch:
    """What :meth:`Services.wait_converged` knows between listings: which events matter, when
    each task was first known to run, which starts it heard of."""

    def __init__(self, service: str | Service) -> None:
        self.service_id = service.id or "" if isinstance(service, Service) else ""
        self.wake = asyncio.Event()
        self.refresh = False
        self.started: dict[str, float] = {}  # task id -> when its container's start was heard
        self.first_running: dict[str, float] = {}
        self.ended: set[str] = set()  # tasks the swarm is shutting down (their deaths are due)
        self.listed_at = 0.0
        self.blocking: set[str] = set()  # running tasks that must stop for the verdict

    def relevant(self, event: EventMessage) -> bool:
        """Whether an event may change the verdict (and note what it says)."""
        if event.type == "service":
            if event.actor_id != self.service_id:
                return False
            attributes = event.actor.attributes if event.actor else None
            if (
                event.action == "update" and attributes
                and set(attributes) <= _PROGRESS_ONLY
                and attributes.get("updatestate.new") in ("updating", "completed")
            ):
                return False
            self.refresh = True
            return True
        if event.attribute(SERVICE_ID_LABEL) != self.service_id:
            return False
        task_id = event.attribute(TASK_ID_LABEL) or ""
        if event.action == "start":
            self.started.setdefault(task_id, time.monotonic())
            return True
        # a death the swarm did not ask for, or one the verdict waits for
        return task_id not in self.ended or task_id in self.blocking

    def note(self, tasks: list[Task]) -> None:
        """Take in a listing: the tasks being shut down, and since when each task runs (from
        its container's start, if heard)."""
        now = self.listed_at = time.monotonic()
        self.ended = {t.id or "" for t in tasks if t.desired_state != "running"}
        for task in tasks:
            if task.state == "running":
                self.first_running.setdefault(task.id or "", self.started.get(task.id or "", now))

    def settle(self, tasks: list[Task], stable: float) -> float:
        """Seconds until every running task has run for ``stable`` seconds."""
        now = time.monotonic()
        return max(
            (stable - (now - self.first_running[t.id or ""]) for t in tasks
             if t.state == "running"),
            default=0.0,
        )

    def all_seen(self, tasks: list[Task], stable: float) -> bool:
        """Whether every task still settling at the last listing had its start heard: its
        death would have been heard too (the others counted as running already then)."""
        return all(
            t.id in self.started or self.listed_at - self.first_running[t.id or ""] >= stable
            for t in tasks if t.state == "running"
        )


class Services(Area):
    """Create, list, inspect, update, scale and remove swarm services (``/services/…``)."""

    __slots__ = ()

    async def create(
        self,
        spec: ServiceSpec | None = None,
        *,
        image: str | None = None,
        name: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        env: Mapping[str, str] | Sequence[str] | None = None,
        labels: Mapping[str, str] | None = None,
        container_labels: Mapping[str, str] | None = None,
        replicas: int | None = None,
        mode: Literal["replicated", "global"] = "replicated",
        mounts: Sequence[Mount] | None = None,
        secrets: Sequence[str | TaskSecret] | None = None,
        configs: Sequence[str | TaskConfig] | None = None,
        networks: Sequence[str] | None = None,
        constraints: Sequence[str] | None = None,
        restart_policy: TaskRestartPolicy | None = None,
        update_config: ServiceUpdateConfig | None = None,
        auth: RegistryAuth | None = None,
    ) -> Service:
        """Create a service: a whole ``ServiceSpec``, or the common parts as arguments.

        ``POST /services/create``

        ``await docker.services.create(image=image_id, name="web", replicas=3)``. The call
        returns once the swarm has stored the service; its tasks start afterwards (see
        :meth:`wait_converged`). Give the image by id (``sha256:…``) or digest and no task
        start asks a registry for it.

        Args:
            spec: the whole spec; then none of the other arguments but ``auth``.
            image: the image of the service's containers.
            name: the service's name (generated when omitted).
            command: replaces the image's entrypoint.
            args: arguments to the command (replace the image's ``CMD``).
            env: ``{"KEY": "value"}`` or ``["KEY=value"]``.
            labels: the service's labels.
            container_labels: labels of its containers.
            replicas: how many tasks (replicated mode; 1 when omitted).
            mode: ``"replicated"`` or ``"global"`` (one task on every eligible node).
            mounts: the containers' mounts.
            secrets: secrets by name (mounted at ``/run/secrets/NAME``) or as ``TaskSecret``.
            configs: configs by name (mounted at ``/NAME``) or as ``TaskConfig``.
            networks: networks (names or ids) the tasks join.
            constraints: placement constraints (``"node.role==manager"``).
            restart_policy: when tasks are restarted (the daemon's default: always, 5 s apart).
            update_config: how updates roll out.
            auth: registry credentials, forwarded to the nodes that pull the image
                (``X-Registry-Auth``); ``None`` looks them up in ``~/.docker/config.json``
                and sends none when there are none.

        Returns:
            The service, as :meth:`inspect` reports it (``warnings`` of the daemon dropped).

        Raises:
            InvalidArgument: no image, both ``spec`` and other arguments, a secret or config
                name that does not exist, or a malformed argument.
            Conflict: a service of that name exists.
            BadRequest: the daemon refused the spec (the message says what).
            NotSwarmManager: the node is not a swarm manager (NotInSwarm: in no swarm).
        """
        friendly = {
            "image": image, "name": name, "command": command, "args": args, "env": env,
            "labels": labels, "container_labels": container_labels, "replicas": replicas,
            "mounts": mounts, "secrets": secrets, "configs": configs, "networks": networks,
            "constraints": constraints, "restart_policy": restart_policy,
            "update_config": update_config,
        }
        given = sorted(key for key, value in friendly.items() if value is not None)
        if spec is not None:
            if given or mode != "replicated":
                raise InvalidArgument(
                    "give either a whole ServiceSpec or the service's parts as arguments, not "
                    f"both (got spec= and {', '.join(given or ['mode'])})"
                )
            if not isinstance(spec, ServiceSpec):
                raise InvalidArgument(f"spec must be a ServiceSpec, not {type(spec).__name__}")
        else:
            if not isinstance(image, str) or not image:
                raise InvalidArgument(
                    "a service needs an image: image='sha256:…' (an id or digest starts tasks "
                    "without a registry) or a name"
                )
            spec = await self._build_spec(
                image=image, name=name, command=command, args=args, env=env, labels=labels,
                container_labels=container_labels, replicas=replicas, mode=mode, mounts=mounts,
                secrets=secrets, configs=configs, networks=networks, constraints=constraints,
                restart_policy=restart_policy, update_config=update_config,
            )
        headers = await _auth_headers(_image_of(spec), auth)
        resp = await self._t.request("POST", "/services/create", body=spec, headers=headers)
        created = resp.decode(ServiceCreateResponse)
        return await self.inspect(created.id or spec.name or "")

    async def list(
        self, *, filters: Filters | None = None, status: bool = False
    ) -> list[Service]:
        """List the swarm's services.

        ``GET /services``

        Args:
            filters: ``id``, ``name``, ``label`` (``"k"`` or ``"k=v"``), ``mode``
                (``"replicated"`` or ``"global"``).
            status: also count each service's running and desired tasks
                (``service_status``).

        Raises:
            NotSwarmManager: the node is not a swarm manager (NotInSwarm: in no swarm).
        """
        resp = await self._t.request(
            "GET", "/services", query={"filters": filters or None, "status": status or None}
        )
        return resp.decode(_SERVICE_LIST)

    async def inspect(self, service: str, *, insert_defaults: bool = False) -> Service:
        """One service, its current and previous spec and the state of its last update.

        ``GET /services/{id}``

        Args:
            service: the service's id or name.
            insert_defaults: fill in the daemon's defaults for every field left unset.

        Raises:
            NotFound: no such service.
        """
        resp = await self._t.request(
            "GET",
            self._t.path("/services/{}", service),
            query={"insertDefaults": insert_defaults or None},
        )
        return resp.decode(Service)

    async def update(
        self,
        service: str,
        *,
        spec: ServiceSpec | Callable[[ServiceSpec], ServiceSpec] | None = None,
        image: str | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
        env: Mapping[str, str] | Sequence[str] | None = None,
        labels: Mapping[str, str] | None = None,
        replicas: int | None = None,
        force: bool = False,
        rollback: bool = False,
        auth: RegistryAuth | None = None,
    ) -> Service:
        """Change a service (a rolling update of its tasks), or roll it back.

        ``POST /services/{id}/update``

        The version handshake is done here: the service's current version and spec are read,
        the change is applied to that spec, and both are sent (tried again if another update
        came in between). Arguments left out keep their current value.

        Args:
            service: the service's id or name.
            spec: a whole new spec, or a function given the current spec that returns the new
                one (``lambda s: msgspec.structs.replace(s, labels={...})``).
            image: the new image.
            command: the new command (replaces the image's entrypoint).
            args: the new arguments.
            env: the new environment, replacing the old one.
            labels: the service's new labels, replacing the old ones.
            replicas: the new number of tasks (replicated services).
            force: replace every task even if nothing else changed.
            rollback: return to the spec before the last update (``PreviousSpec``); no
                other change may be given with it.
            auth: registry credentials for the image, forwarded to the nodes; ``None`` looks
                them up in ``~/.docker/config.json`` when the image changes, and otherwise
                the daemon keeps those it was given before.

        Returns:
            The service after the update (its tasks are replaced afterwards: see
            :meth:`wait_converged`).

        Raises:
            NotFound: no such service.
            InvalidArgument: ``rollback`` with other changes, ``replicas`` for a global
                service, or a malformed argument.
            BadRequest: the daemon refused the new spec, or there is no previous spec to
                roll back to.
        """
        changes = {
            "spec": spec, "image": image, "command": command, "args": args, "env": env,
            "labels": labels, "replicas": replicas,
        }
        given = sorted(key for key, value in changes.items() if value is not None)
        if force:
            given.append("force")
        if rollback and given:
            raise InvalidArgument(
                f"rollback=True returns to the previous spec; give no other change with it "
                f"(got {', '.join(given)})"
            )
        if spec is not None and len(given) > 1:
            raise InvalidArgument(
                f"give either spec= or single changes, not both (got {', '.join(given)})"
            )
        if spec is not None and not (isinstance(spec, ServiceSpec) or callable(spec)):
            raise InvalidArgument(
                f"spec must be a ServiceSpec or a function of the current one, not "
                f"{type(spec).__name__}"
            )
        _check_replicas(replicas)
        env_list = _env(env)

        async def attempt() -> Service:
            resp = await self._t.request("GET", self._t.path("/services/{}", service))
            current = resp.decode(Service)
            # the spec as the daemon sent it: changes made to it keep the settings of a newer
            # engine that ServiceSpec does not model (the update replaces the whole spec)
            raw = resp.decode(Versioned).spec or {}
            old = current.spec or ServiceSpec()
            body: ServiceSpec | dict[str, Any]
            if rollback:
                body = raw
            elif isinstance(spec, ServiceSpec):
                body = spec
            elif spec is not None:
                body = spec(old)
                if not isinstance(body, ServiceSpec):
                    raise InvalidArgument(
                        f"the spec function returned a {type(body).__name__}, not a ServiceSpec"
                    )
            else:
                body = _changed(
                    raw, old, image=image, command=command, args=args, env=env_list,
                    labels=string_map("labels", labels), replicas=replicas, force=force,
                )
            new_image = _image_of(body) if isinstance(body, ServiceSpec) else (
                body.get("TaskTemplate", {}).get("ContainerSpec", {}).get("Image"))
            headers = (
                await _auth_headers(new_image, auth)
                if auth is not None or (new_image and new_image != _image_of(old))
                else {}
            )
            query: dict[str, QueryValue] = {
                "version": current.version.index if current.version else None,
                "rollback": "previous" if rollback else None,
            }
            await self._t.request(
                "POST",
                self._t.path("/services/{}/update", current.id or service),
                query=query,
                body=body,
                headers=headers or None,
            )
            return await self.inspect(current.id or service)

        return await retry_out_of_sequence(attempt)

    async def scale(self, service: str, replicas: int) -> Service:
        """Set a replicated service's number of tasks (``docker service scale``).

        ``POST /services/{id}/update``

        Raises:
            NotFound: no such service.
            InvalidArgument: a negative number, or a service that is not replicated.
        """
        return await self.update(service, replicas=replicas)

    async def remove(self, service: str) -> None:
        """Remove a service; the swarm then stops and removes its tasks.

        ``DELETE /services/{id}``

        Args:
            service: the service's id or name.

        Raises:
            NotFound: no such service.
        """
        await self._t.request("DELETE", self._t.path("/services/{}", service))

    def logs(
        self,
        service: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        since: TimeSpec | None = None,
        timestamps: bool = False,
        tail: int | str | None = None,
        details: bool = False,
    ) -> LogStream:
        """The output of every task of a service, multiplexed: awaited whole, or streamed.

        ``GET /services/{id}/logs``

        The same ``LogStream`` as ``containers.logs()``: ``await`` it for the output so far,
        ``async for frame in docker.services.logs(s, follow=True)`` for each ``LogFrame``
        as the tasks write it (``.lines()`` for text lines). The tasks' lines come
        interleaved in arrival order. Needs the ``json-file``, ``local`` or ``journald`` log
        driver.

        Args:
            service: the service's id or name.
            follow: keep the stream open and deliver new output as it is written.
            stdout: include standard output.
            stderr: include standard error.
            since: only output from this point on (as ``containers.logs()`` takes it).
            timestamps: prefix every line with its RFC 3339 timestamp.
            tail: only the last N lines of each task (``"all"`` or ``None``: everything).
            details: prefix every line with its task's details
                (``com.docker.swarm.node.id=…,com.docker.swarm.service.id=…,``
                ``com.docker.swarm.task.id=…``).

        Returns:
            A ``LogStream`` (it sends the request when first read).

        Raises:
            NotFound: no such service (when the stream opens).
        """
        query = _logs_query(follow, stdout, stderr, since, timestamps, tail, details)
        opener = functools.partial(
            self._t.stream, "GET", self._t.path("/services/{}/logs", service), query=query,
            timeout=DEFAULT,
        )

        async def probe(resp: StreamResponse) -> bool:
            if resp.headers.get("Content-Type", "").startswith(_MULTIPLEXED):
                return False
            found = await self.inspect(service)
            task = found.spec.task_template if found.spec else None
            return bool(task and task.container_spec and task.container_spec.tty)

        return LogStream(opener, f"logs of service {service}", probe, timestamps=timestamps)

    async def wait_converged(
        self,
        service: str | Service,
        *,
        timeout: float | None = 120.0,
        backstop: float = 5.0,
        max_failures: int = 2,
        stable: float = 0.25,
    ) -> Service:
        """Wait until a service runs as its current spec says.

        ``GET /events`` (the service's own events and those of its task containers on this
        node), ``GET /tasks`` (when an event says something changed, a few times shortly
        after while a task is starting, and every ``backstop`` seconds) and
        ``GET /services/{id}`` (at the start unless given the service, when the service's
        events say it changed, and on the backstop).

        Converged means: as many tasks are running as the current spec asks for
        (``replicas``; for a global service one per eligible node), every one of them runs
        the current spec (so after an update or a rollback, none of the old tasks is left
        running), and no other task of the service runs. Call it right after
        :meth:`create`, :meth:`update` (a rolling update, a rollback) or :meth:`scale`, with
        what they returned::

            service = await docker.services.update(name, image=new_image)
            await docker.services.wait_converged(service)

        Args:
            service: the service's id or name, or the ``Service`` that :meth:`create`,
                :meth:`update` or :meth:`scale` returned (its spec is then taken as the
                current one, which saves a call).
            timeout: seconds to wait at most (``None``: no limit).
            backstop: seconds between listings when no event comes (tasks on other nodes
                send none here).
            max_failures: how many tasks of the current spec may fail before the wait gives
                up (a rejected task ends it at once).
            stable: seconds each task must have been running before it counts (so a
                command that crashes as soon as it starts is not taken for a running task;
                its container's death wakes the wait). ``0`` reports the first moment all run.
                A task that crashes later than that, or whose death the daemon reports later
                (a loaded machine), counts as running: raise it where a crash must be caught
                (the Docker CLI watches for 5 s).

        Returns:
            The service as it was when it converged.

        Raises:
            ServiceFailed: tasks of the current spec were rejected or failed
                ``max_failures`` times, or the rolling update was paused; the message is the
                task's own error.
            WaitTimeout: not converged within ``timeout``.
            NotFound: no such service (or it was removed meanwhile).
        """
        if max_failures < 1:
            raise InvalidArgument(f"max_failures must be at least 1, not {max_failures}")
        if stable < 0:
            raise InvalidArgument(f"stable must be >= 0 seconds, not {stable}")
        if backstop <= 0:
            raise InvalidArgument(f"backstop must be a positive number of seconds, not {backstop}")
        deadline = None if timeout is None else time.monotonic() + timeout
        watch = _ConvergeWatch(service)
        stream = event_stream(
            self._t,
            filters={"type": ["service", "container"], "event": ["start", "die", "update",
                                                                  "remove"]},
            reconnect=True,
        )

        async def read() -> None:
            async for event in stream:
                if isinstance(event, EventMessage) and watch.relevant(event):
                    watch.wake.set()

        async with stream:
            await stream.open()
            reader: asyncio.Future[None] = asyncio.ensure_future(read())
            try:
                if isinstance(service, Service) and service.id and service.spec:
                    current = service
                else:
                    current = await self._current(service if isinstance(service, str)
                                                  else service.id or "")
                watch.service_id = current.id or ""
                follow_ups: Iterator[float] = iter(())
                while True:
                    watch.wake.clear()  # before listing: an event from now on wakes the next
                    if watch.refresh:
                        watch.refresh = False
                        current = await self._current(watch.service_id)
                    tasks = await self._tasks_of(watch.service_id)
                    watch.note(tasks)
                    verdict = _verdict(current, tasks, max_failures)
                    if isinstance(verdict, ServiceFailed):
                        raise verdict
                    watch.blocking = _extra_running(current, tasks)
                    settle = watch.settle(tasks, stable) if verdict is True else None
                    if settle is not None and settle <= 0:
                        return current
                    delay: float | None = None
                    if settle is not None:
                        delay = settle  # converged unless an event comes meanwhile
                    elif verdict == "starting":
                        delay = next(follow_ups, None)
                    wait = backstop if delay is None else delay
                    if deadline is not None:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise WaitTimeout(
                                f"service {current.name or watch.service_id} did not converge "
                                f"within {timeout} s: {_progress(current, tasks)}"
                            )
                        wait = min(wait, left)
                    if reader.done():
                        reader.result()  # the stream's error, if it failed
                        raise AssertionError("an endless event stream ended")  # pragma: no cover
                    woken = await _wait_event(watch.wake, reader, wait)
                    if woken:
                        await _quiet(watch.wake)  # one listing for events close together
                        follow_ups = iter(_FOLLOW_UPS)
                    elif settle is not None and watch.all_seen(tasks, stable):
                        return current  # no task of ours died meanwhile: we would have heard
                    elif delay is None:
                        watch.refresh = True  # the backstop also re-reads the service
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)

    # -- helpers ------------------------------------------------------------------------------

    async def _current(self, service: str) -> Service:
        """The service; a global one with its task counts (its desired tasks come only so)."""
        found = await self.inspect(service)
        mode = found.spec.mode if found.spec else None
        if mode is None or mode.replicated is not None or not await self._t.api_at_least("1.41"):
            return found
        resp = await self._t.request(
            "GET", "/services", query={"filters": {"id": [found.id or service]}, "status": True}
        )
        for listed in resp.decode(_SERVICE_LIST):
            if listed.id == found.id:
                return listed
        raise NotFound(404, f"service {service} was removed", method="GET", path="/services")

    async def _tasks_of(self, service_id: str) -> builtins.list[Task]:
        resp = await self._t.request(
            "GET", "/tasks", query={"filters": {"service": [service_id]}}
        )
        return resp.decode(_TASK_LIST)

    async def _build_spec(self, **parts: Any) -> ServiceSpec:
        """A ``ServiceSpec`` from :meth:`create`'s arguments (secrets and configs by name are
        looked up, as the swarm wants their ids)."""
        _check_replicas(parts["replicas"])
        mode = parts["mode"]
        if mode == "replicated":
            service_mode = ServiceMode(
                replicated=ReplicatedMode(
                    replicas=1 if parts["replicas"] is None else parts["replicas"]
                )
            )
        elif mode == "global":
            if parts["replicas"] is not None:
                raise InvalidArgument("a global service runs one task per node: no replicas=")
            service_mode = ServiceMode(global_={})
        else:
            raise InvalidArgument(f"mode must be 'replicated' or 'global', not {mode!r}")
        mounts = parts["mounts"]
        if mounts is not None and not all(isinstance(m, Mount) for m in mounts):
            raise InvalidArgument("mounts must be a list of Mount structs")
        container = ContainerSpec(
            image=parts["image"],
            command=string_list("command", parts["command"]),
            args=string_list("args", parts["args"]),
            env=_env(parts["env"]),
            labels=string_map("container_labels", parts["container_labels"]),
            mounts=list(mounts) if mounts is not None else None,
            secrets=await self._secret_refs(parts["secrets"]),
            configs=await self._config_refs(parts["configs"]),
        )
        networks = string_list("networks", parts["networks"])
        constraints = string_list("constraints", parts["constraints"])
        task = TaskSpec(
            container_spec=container,
            restart_policy=parts["restart_policy"],
            placement=TaskPlacement(constraints=constraints) if constraints else None,
            networks=[NetworkAttachmentConfig(target=n) for n in networks] if networks else None,
        )
        return ServiceSpec(
            name=parts["name"],
            labels=string_map("labels", parts["labels"]),
            task_template=task,
            mode=service_mode,
            update_config=parts["update_config"],
        )

    async def _secret_refs(
        self, given: Sequence[str | TaskSecret] | None
    ) -> builtins.list[TaskSecret] | None:
        if given is None:
            return None
        ids = await self._ids_by_name("secrets", "names", _SECRET_LIST, given)
        return [
            item if isinstance(item, TaskSecret) else TaskSecret(
                secret_id=ids[item], secret_name=item,
                file=TaskFileTarget(name=item, uid="0", gid="0", mode=0o444),
            )
            for item in _checked_refs("secret", TaskSecret, given, ids)
        ]

    async def _config_refs(
        self, given: Sequence[str | TaskConfig] | None
    ) -> builtins.list[TaskConfig] | None:
        if given is None:
            return None
        # no "names" filter for configs (dockerd refuses it): "name", then exact matches
        ids = await self._ids_by_name("configs", "name", _CONFIG_LIST, given)
        return [
            item if isinstance(item, TaskConfig) else TaskConfig(
                config_id=ids[item], config_name=item,
                file=TaskFileTarget(name=f"/{item}", uid="0", gid="0", mode=0o444),
            )
            for item in _checked_refs("config", TaskConfig, given, ids)
        ]

    async def _ids_by_name(
        self, kind: str, filter_key: str, listing: Any, given: Sequence[object]
    ) -> dict[str, str]:
        """The ids of the swarm's secrets or configs named in ``given`` (``GET /secrets``,
        ``GET /configs``), by exact name."""
        names = [item for item in given if isinstance(item, str)]
        if not names:
            return {}
        resp = await self._t.request("GET", f"/{kind}", query={"filters": {filter_key: names}})
        return {o.name or "": o.id or "" for o in resp.decode(listing)}


def _checked_refs(
    kind: str, struct: type[Any], given: Sequence[Any], ids: Mapping[str, str]
) -> Sequence[Any]:
    """``given`` (names and ``struct`` values), each name known to the swarm (``ids``)."""
    for item in given:
        if isinstance(item, str):
            if item not in ids:
                raise InvalidArgument(
                    f"no {kind} named {item!r} in the swarm: create it first "
                    f"(docker.{kind}s.create)"
                )
        elif not isinstance(item, struct):
            raise InvalidArgument(
                f"{kind}s must be names or {struct.__name__} structs, not {type(item).__name__}"
            )
    return given


def _logs_query(
    follow: bool, stdout: bool, stderr: bool, since: TimeSpec | None, timestamps: bool,
    tail: int | str | None, details: bool,
) -> dict[str, QueryValue]:
    return {
        "follow": follow or None, "stdout": stdout, "stderr": stderr,
        "since": None if since is None or since == 0 else format_time(since),
        "timestamps": timestamps or None, "tail": tail, "details": details or None,
    }


def _check_replicas(replicas: int | None) -> None:
    if replicas is not None and (
        not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0
    ):
        raise InvalidArgument(f"replicas must be a whole number >= 0, not {replicas!r}")


def _env(env: Mapping[str, str] | Sequence[str] | None) -> list[str] | None:
    if env is None:
        return None
    if isinstance(env, Mapping):
        checked = string_map("env", env) or {}
        return [f"{key}={value}" for key, value in checked.items()]
    return string_list("env", env)


def _image_of(spec: ServiceSpec) -> str | None:
    task = spec.task_template
    return task.container_spec.image if task and task.container_spec else None


async def _auth_headers(image: str | None, auth: RegistryAuth | None) -> dict[str, str]:
    """``X-Registry-Auth`` for the image's registry: ``auth``, or what ``docker login``
    stored; nothing for an image given by id (no registry is asked)."""
    if auth is not None and not isinstance(auth, RegistryAuth):
        raise InvalidArgument(f"auth must be a RegistryAuth, not {type(auth).__name__}")
    if auth is None and image and not image.startswith("sha256:"):
        auth = await asyncio.to_thread(RegistryAuth.for_image, image)
    return {"X-Registry-Auth": auth.header()} if auth is not None else {}


def _changed(
    raw: dict[str, Any], old: ServiceSpec, *, image: str | None,
    command: Sequence[str] | None, args: Sequence[str] | None, env: list[str] | None,
    labels: dict[str, str] | None, replicas: int | None, force: bool,
) -> dict[str, Any]:
    """The daemon's spec ``raw`` (``old``, typed) with :meth:`Services.update`'s single changes
    applied, every other key left as the daemon sent it."""
    spec = copy.deepcopy(raw)
    task = spec.setdefault("TaskTemplate", {})
    container = task.setdefault("ContainerSpec", {})
    if image is not None:
        container["Image"] = image
    if command is not None:
        container["Command"] = string_list("command", command)
    if args is not None:
        container["Args"] = string_list("args", args)
    if env is not None:
        container["Env"] = env
    if force:
        task["ForceUpdate"] = (old.task_template.force_update or 0) + 1 if old.task_template else 1
    if replicas is not None:
        mode = old.mode
        if mode is not None and mode.replicated is None:
            raise InvalidArgument(
                "only a replicated service has replicas to scale; this one is "
                + ("global" if mode.global_ is not None else "a job")
            )
        spec["Mode"] = {"Replicated": {"Replicas": replicas}}
    if labels is not None:
        spec["Labels"] = labels
    return spec


def _desired(service: Service) -> int | None:
    """How many tasks the spec asks for: its replicas, or (global) the daemon's count of
    eligible nodes; ``None`` when the daemon gave no count."""
    mode = service.spec.mode if service.spec else None
    if mode is not None and mode.replicated is not None:
        return mode.replicated.replicas or 0
    status = service.service_status
    return status.desired_tasks if status else None


def _verdict(
    service: Service, tasks: list[Task], max_failures: int
) -> bool | ServiceFailed | Literal["starting", "waiting"]:
    """Whether the service has converged (``True``), failed, or is still getting there
    (``"starting"`` while one of its current tasks is on the way to running)."""
    template = service.spec.task_template if service.spec else None
    current = [t for t in tasks if _same_spec(t.spec, template)]
    failed = [t for t in current if t.state in _FAILED]
    rejected = [t for t in failed if t.state == "rejected"]
    update = service.update_status
    name = service.name or service.id or "?"
    paused = update is not None and update.state in ("paused", "rollback_paused")
    if rejected or len(failed) >= max_failures or (paused and failed):
        worst = max(rejected or failed, key=lambda t: t.updated_at or "")
        status = worst.status
        error = (status.err or status.message if status else None) or "no error given"
        return ServiceFailed(name, worst.id, error, len(failed), state=worst.state)
    if paused and update is not None:
        return ServiceFailed(name, None, update.message or update.state or "", len(failed))
    running = [t for t in tasks if t.state == "running"]
    desired = _desired(service)
    wanted = [t for t in current if t.desired_state == "running"]
    if (
        desired is not None
        and len(running) == desired
        and all(t in current and t.desired_state == "running" for t in running)
        and (desired > 0 or not any(t.state in _STARTING for t in tasks))
    ):
        return True
    return "starting" if any(t.state in _STARTING for t in wanted) else "waiting"


def _extra_running(service: Service, tasks: list[Task]) -> set[str]:
    """The running tasks that only need to stop for the service to converge (a scale-down's,
    a start-first update's old ones), once enough tasks of the current spec run."""
    template = service.spec.task_template if service.spec else None
    good = [t for t in tasks if t.state == "running" and t.desired_state == "running"
            and _same_spec(t.spec, template)]
    desired = _desired(service)
    if desired is None or len(good) < desired:
        return set()
    return {t.id or "" for t in tasks if t.state == "running" and t not in good}


def _same_spec(task: TaskSpec | None, template: TaskSpec | None) -> bool:
    """Whether a task runs the service's task template: the same container, resources and
    force-update counter (the parts a task copies unchanged; dockerd leaves others, such as
    ``Runtime``, out of the task's copy)."""
    if task is None or template is None:
        return task is template
    return (
        task.container_spec == template.container_spec
        and (task.force_update or 0) == (template.force_update or 0)
        and (task.resources or _NO_RESOURCES) == (template.resources or _NO_RESOURCES)
    )


_NO_RESOURCES = TaskResources()


def _progress(service: Service, tasks: list[Task]) -> str:
    template = service.spec.task_template if service.spec else None
    running = sum(1 for t in tasks if t.state == "running" and _same_spec(t.spec, template))
    desired = _desired(service)
    states = sorted({t.state or "?" for t in tasks if _same_spec(t.spec, template)})
    return (f"{running} of {desired if desired is not None else '?'} tasks of the current spec "
            f"running (their states: {', '.join(states) or 'none yet'})")


async def _quiet(wake: asyncio.Event) -> None:
    """Wait until no event has come for ``_DEBOUNCE`` seconds (at most ``_DEBOUNCE_MAX``)."""
    until = time.monotonic() + _DEBOUNCE_MAX
    while True:
        wake.clear()
        await asyncio.sleep(_DEBOUNCE)
        if not wake.is_set() or time.monotonic() >= until:
            return


async def _wait_event(
    wake: asyncio.Event, reader: asyncio.Future[None], seconds: float
) -> bool:
    """Wait for ``wake`` or ``seconds``; whether it was woken. Returns early if the reader
    ends (its error is then raised by the caller)."""
    waiter: asyncio.Future[Any] = asyncio.ensure_future(wake.wait())
    try:
        done, _ = await asyncio.wait(
            (waiter, reader), timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        if not waiter.done():
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)
    return waiter in done
