"""The tasks area of the Engine API: ``docker.tasks`` (swarm managers only).

A task is one instance of a service on one node: the swarm's unit of scheduling, running one
container. The swarm keeps a few ended tasks per slot as history.
"""

from __future__ import annotations

import functools

from ._args import Filters, TimeSpec, format_time
from ._bodies import LogStream
from ._transport import DEFAULT, Area, QueryValue, StreamResponse
from .models.services import Task

__all__ = ["Tasks"]

_TASK_LIST = list[Task]
_MULTIPLEXED = "application/vnd.docker.multiplexed-stream"


class Tasks(Area):
    """List and inspect the tasks of swarm services, and read their output (``/tasks/…``)."""

    __slots__ = ()

    async def list(self, *, filters: Filters | None = None) -> list[Task]:
        """List tasks, the ended ones the swarm keeps as history included.

        ``GET /tasks``

        Args:
            filters: ``service`` (a service's id or name), ``node``, ``id``, ``name``,
                ``label``, ``desired-state`` (``"running"``, ``"shutdown"``, ``"accepted"``).

        Raises:
            NotSwarmManager: the node is not a swarm manager (NotInSwarm: in no swarm).
        """
        resp = await self._t.request("GET", "/tasks", query={"filters": filters or None})
        return resp.decode(_TASK_LIST)

    async def inspect(self, task: str) -> Task:
        """One task: its spec, node, desired and observed state, and its error if it failed.

        ``GET /tasks/{id}``

        Args:
            task: the task's id.

        Raises:
            NotFound: no such task.
        """
        resp = await self._t.request("GET", self._t.path("/tasks/{}", task))
        return resp.decode(Task)

    def logs(
        self,
        task: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        since: TimeSpec | None = None,
        timestamps: bool = False,
        tail: int | str | None = None,
        details: bool = False,
    ) -> LogStream:
        """One task's output: awaited whole, or streamed (``follow=True``).

        ``GET /tasks/{id}/logs``

        The same ``LogStream`` as ``containers.logs()`` (``LogFrame`` s, ``.lines()``, or
        ``await`` for ``ContainerLogs``). Needs the ``json-file``, ``local`` or ``journald``
        log driver.

        Args:
            task: the task's id.
            follow: keep the stream open and deliver new output as it is written.
            stdout: include standard output.
            stderr: include standard error.
            since: only output from this point on (as ``containers.logs()`` takes it).
            timestamps: prefix every line with its RFC 3339 timestamp.
            tail: only the last N lines (``"all"`` or ``None``: everything).
            details: prefix every line with the task's details (node, service, task ids).

        Returns:
            A ``LogStream`` (it sends the request when first read).

        Raises:
            NotFound: no such task (when the stream opens).
        """
        query: dict[str, QueryValue] = {
            "follow": follow or None, "stdout": stdout, "stderr": stderr,
            "since": None if since is None or since == 0 else format_time(since),
            "timestamps": timestamps or None, "tail": tail, "details": details or None,
        }
        opener = functools.partial(
            self._t.stream, "GET", self._t.path("/tasks/{}/logs", task), query=query,
            timeout=DEFAULT,
        )

        async def probe(resp: StreamResponse) -> bool:
            if resp.headers.get("Content-Type", "").startswith(_MULTIPLEXED):
                return False
            spec = (await self.inspect(task)).spec
            return bool(spec and spec.container_spec and spec.container_spec.tty)

        return LogStream(opener, f"logs of task {task}", probe, timestamps=timestamps)
