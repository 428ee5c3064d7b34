"""The command line's grammar: global options, a subcommand each, and their argument types."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
from pathlib import Path
from typing import Any, NoReturn

from .commands import DEMO_IMAGES

__all__ = ["build_parser", "check_build", "context_dir", "duration", "key_value", "label",
           "secret", "ssh_agent", "tail"]

_HOST_HELP = ("daemon address (default: DOCKER_HOST, then DOCKER_CONTEXT or the current Docker "
              "context, then unix:///var/run/docker.sock); repeat it (or mix with --context) "
              "for ps and events over several engines, with a HOST column")
_CONTEXT_HELP = "a Docker context to use (docker context ls); repeatable like -H"


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: a usage error is one line (what is wrong, and where the help is),
    exit status 2 as argparse's."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line: the global options, then a subcommand each."""
    parser = argparse.ArgumentParser(
        prog="aiodockersock",
        description="A typed asyncio client for the Docker Engine API, as a command line.",
        epilog="Exit status: 0 ok; run/exec: the process's own; 1 an error (one line on "
               "stderr); 2 bad usage; 130 Ctrl-C.",
    )
    parser.add_argument("-H", "--host", action="append", help=_HOST_HELP)
    parser.add_argument("-c", "--context", action="append", help=_CONTEXT_HELP)
    parser.add_argument("--api-version", default="auto", help="pin the API version (e.g. 1.45)")
    parser.add_argument("--json", action="store_true",
                        help="machine-readable output (JSON, or one JSON object per line)")
    # the same options after the command; SUPPRESS keeps a value given before it
    common = _CommandParser(add_help=False)
    common.add_argument("-H", "--host", action="append", default=argparse.SUPPRESS,
                        help=_HOST_HELP)
    common.add_argument("-c", "--context", action="append", default=argparse.SUPPRESS,
                        help=_CONTEXT_HELP)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON (one object per line for streams)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_CommandParser)

    def command(name: str, help_text: str, description: str | None = None) -> Any:
        return sub.add_parser(name, parents=[common], help=help_text,
                              description=description or help_text)

    command("version", "show the engine's version")
    command("info", "show system-wide information")

    ps = command("ps", "list containers")
    ps.add_argument("-a", "--all", action="store_true", help="include stopped containers")
    ps.add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                    help="filter, e.g. name=web, status=exited, label=app=web")

    inspect = command(
        "inspect", "show containers or images as JSON",
        "Print a JSON array with one object per NAME: a container of that name or id if there "
        "is one, else an image. Field names are the Engine's. A NAME that matches nothing is "
        "reported on stderr and makes the exit status 1.",
    )
    inspect.add_argument("names", nargs="+", metavar="NAME", help="container or image")
    inspect.add_argument("--type", choices=("container", "image"),
                         help="only look for this kind of object")
    inspect.add_argument("-s", "--size", action="store_true",
                         help="include the sizes of containers (slower)")

    run = command(
        "run", "run a command in a new container",
        "Create and start a container. Attached (the default), its stdout and stderr are "
        "copied to ours as they are written, and the exit status is the container's; with "
        "--json, one {stream, text} object per line and a last {id, exit_code, removed}. "
        "Ctrl-C stops the container (a second Ctrl-C kills it) and removes it with --rm. "
        "The image must be present (see pull).",
    )
    run.add_argument("--rm", action="store_true", help="remove the container when it exits")
    run.add_argument("-d", "--detach", action="store_true",
                     help="start it in the background and print its id")
    run.add_argument("-e", "--env", action="append", metavar="NAME=VALUE",
                     help="set an environment variable (NAME alone: take ours)")
    run.add_argument("--name", help="the container's name")
    run.add_argument("--network", help="network mode: none, host, bridge, NAME …")
    run.add_argument("-w", "--workdir", metavar="DIR", help="working directory inside")
    run.add_argument("-u", "--user", metavar="USER[:GROUP]", help="user to run as")
    run.add_argument("--stop-timeout", type=int, metavar="SECONDS",
                     help="how long a stop waits before SIGKILL (default: the engine's, 10)")
    run.add_argument("image", metavar="IMAGE")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD …",
                     help="the command and its arguments (default: the image's)")

    logs = command(
        "logs", "show a container's output",
        "Copy a container's stdout to ours and its stderr to ours, as it arrives. With -f, "
        "follow until the container stops (Ctrl-C: exit 130). With --json, one "
        "{stream, text[, timestamp]} object per line.",
    )
    logs.add_argument("-f", "--follow", action="store_true", help="keep following new output")
    logs.add_argument("-n", "--tail", type=tail, default="all", metavar="N",
                      help="only the last N lines (default: all)")
    logs.add_argument("-t", "--timestamps", action="store_true",
                      help="prefix each line with its RFC 3339 timestamp")
    logs.add_argument("container", metavar="CONTAINER")

    exe = command(
        "exec", "run a command in a running container",
        "Run CMD in a running container, copy its stdout and stderr to ours as they come, and "
        "exit with its status (126: it could not be started). -i copies our stdin to it and "
        "closes its stdin at our end of input. -t gives it a terminal; with -i too, our "
        "terminal is put in raw mode (keys, Ctrl-C included, go to the process; ctrl-p ctrl-q "
        "detaches) and its size follows ours. With --json, the output is "
        "collected and printed at the end as one {id, exit_code, stdout, stderr} object.",
    )
    exe.add_argument("-i", "--interactive", action="store_true", help="forward our stdin")
    exe.add_argument("-t", "--tty", action="store_true", help="allocate a terminal")
    exe.add_argument("-e", "--env", action="append", metavar="NAME=VALUE",
                     help="set an environment variable (NAME alone: take ours)")
    exe.add_argument("-w", "--workdir", metavar="DIR", help="working directory inside")
    exe.add_argument("-u", "--user", metavar="USER[:GROUP]", help="user to run as")
    exe.add_argument("container", metavar="CONTAINER")
    exe.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD …",
                     help="the command and its arguments")

    pull = command(
        "pull", "pull an image from a registry",
        "Pull an image, one line per layer (redrawn in place on a terminal, a line per "
        "status change otherwise), then its Digest and Status. With --json, each progress "
        "message from the Engine as one JSON object per line. Registry credentials come "
        "from ~/.docker/config.json.",
    )
    pull.add_argument("image", metavar="IMAGE[:TAG|@DIGEST]")
    pull.add_argument("--platform", metavar="OS[/ARCH[/VARIANT]]",
                      help="which platform of a multi-platform image")

    build = command(
        "build", "build an image from a Dockerfile",
        "Build an image from the context PATH (a directory), as docker build --progress=plain "
        "does: one line per step event (#5 [2/3] RUN make, #5 0.213 its output, #5 DONE 0.3s, "
        "#5 CACHED, #5 ERROR: …), then the image id and its tags. A failing step exits 1 "
        "after its last output lines. With BuildKit (the default where the engine has it: "
        "Docker; Podman and DOCKER_BUILDKIT=0 get the classic builder), --json prints each "
        "progress record (vertexes, statuses, logs, warnings) as one JSON object per line, "
        "then {id, tags}. Ctrl-C cancels the build (exit 130).",
    )
    build.add_argument("path", type=context_dir, metavar="PATH",
                       help="the build context: a directory")
    build.add_argument("-f", "--file", metavar="FILE",
                       help="the Dockerfile (default: PATH/Dockerfile); relative to the "
                       "current directory, inside PATH")
    build.add_argument("-t", "--tag", action="append", metavar="NAME[:TAG]",
                       help="name the image; repeatable")
    build.add_argument("--build-arg", action="append", type=key_value, metavar="KEY=VALUE",
                       help="a value for an ARG (KEY alone: take ours from the environment); "
                       "repeatable")
    build.add_argument("--label", action="append", type=label, metavar="KEY=VALUE",
                       help="a label of the image; repeatable")
    build.add_argument("--target", metavar="STAGE", help="the stage to build")
    build.add_argument("--platform", metavar="OS[/ARCH[/VARIANT]]",
                       help="the platform to build for")
    build.add_argument("--network", metavar="MODE",
                       help="the network of RUN steps: default, none, host, a network name")
    build.add_argument("--no-cache", action="store_true", help="use no cached layers")
    build.add_argument("--pull", action="store_true", help="pull newer base images")
    build.add_argument("--secret", action="append", type=secret, metavar="id=ID,src=PATH",
                       help="a secret for RUN --mount=type=secret,id=ID: src=PATH (a file) or "
                       "env=VAR (an environment variable); BuildKit only; repeatable")
    build.add_argument("--ssh", action="append", type=ssh_agent, metavar="default|ID[=SOCKET]",
                       help="an ssh agent for RUN --mount=type=ssh[,id=ID]: ID alone is the "
                       "agent at $SSH_AUTH_SOCK, ID=SOCKET another agent's socket (key files "
                       "are refused: ssh-add them); read-only; BuildKit only; repeatable")
    build.add_argument("--builder", choices=("buildkit", "classic"),
                       help="BuildKit or the classic builder (default: BuildKit where the "
                       "engine has it; DOCKER_BUILDKIT=0 or 1 decides too, as for docker)")
    build.add_argument("--progress", choices=("plain", "quiet"), default="plain",
                       help="plain: a line per step event (default); quiet: the image id alone")
    build.add_argument("-q", "--quiet", dest="progress", action="store_const", const="quiet",
                       help="the same as --progress quiet")
    build.set_defaults(check=check_build, usage_error=build.error)

    events = command("events", "print the daemon's live events (Ctrl-C ends)")
    events.add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                        help="filter, e.g. type=container, event=die, label=app=web")
    events.add_argument("--since", help="replay from: seconds since the epoch, a duration "
                        "before now (10m) or an ISO 8601 date-time")
    events.add_argument("--until", help="stop at this point (same forms as --since)")

    stats = command(
        "stats", "show the resource usage of every running container",
        "A live table of every running container's CPU, memory, network and block I/O and "
        "processes, redrawn every second; containers join as they start and leave as they "
        "stop (Ctrl-C ends). With --no-stream, one table, all samples taken at once. With "
        "--json, one object per container per refresh.",
    )
    stats.add_argument("--no-stream", action="store_true",
                       help="print one table and exit")
    stats.add_argument("--label", action="append", metavar="KEY[=VALUE]",
                       help="only containers with this label (all must match)")

    service = command(
        "service", "swarm services: ls, ps SERVICE, logs [-f] SERVICE",
        "Look at the services of the swarm this engine manages: list them with their task "
        "counts (ls), list one service's tasks (ps), or copy the output of all its tasks to "
        "ours (logs, -f to follow).",
    )
    service_sub = service.add_subparsers(dest="service_command", required=True,
                                         metavar="SUBCOMMAND")
    service_sub.add_parser(
        "ls", parents=[common], help="list services with their running/desired tasks",
        description="One line per service: ID, NAME, MODE, REPLICAS (running/desired), "
        "IMAGE. With --json, the services as the Engine gives them.",
    ).add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                   help="filter, e.g. name=web, label=app=web, mode=global")
    service_ps = service_sub.add_parser(
        "ps", parents=[common], help="list a service's tasks",
        description="One line per task of SERVICE, ended ones (the swarm's history) included: "
        "ID, NAME (service.slot), IMAGE, NODE, DESIRED STATE, CURRENT STATE, ERROR. With "
        "--json, the tasks as the Engine gives them.",
    )
    service_ps.add_argument("service", metavar="SERVICE")
    service_ps.add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                            help="filter, e.g. desired-state=running, node=NODE")
    service_logs = service_sub.add_parser(
        "logs", parents=[common], help="show the output of a service's tasks",
        description="Copy the stdout and stderr of every task of SERVICE to ours, as it "
        "arrives (the tasks' lines interleaved). With -f, follow (Ctrl-C: exit 130). With "
        "--json, one {stream, text[, timestamp]} object per line.",
    )
    service_logs.add_argument("-f", "--follow", action="store_true",
                              help="keep following new output")
    service_logs.add_argument("-n", "--tail", type=tail, default="all", metavar="N",
                              help="only the last N lines of each task (default: all)")
    service_logs.add_argument("-t", "--timestamps", action="store_true",
                              help="prefix each line with its RFC 3339 timestamp")
    service_logs.add_argument("service", metavar="SERVICE")

    demo = command(
        "demo", "create and start a container while printing its live events, then clean up"
    )
    demo.add_argument("--image", help=f"image to run (default: first of {', '.join(DEMO_IMAGES)})")

    prune = command(
        "prune", "remove what the pytest fixtures left behind",
        "Remove the containers, networks and volumes that the aiodockersock pytest fixtures "
        "created (labelled aiodockersock.pytest=1) and that a test session could not remove "
        "(it was killed before its teardown, say). One line per object, then the counts; with "
        "--json, one {dry_run, containers, networks, volumes} object.",
    )
    prune.add_argument("--session", metavar="ID",
                       help="only this session's objects (its id is in pytest's report header)")
    prune.add_argument("--older-than", type=duration, metavar="DURATION",
                       help="only objects at least this old (seconds, or 30m, 1h, 2d): spares "
                       "sessions still running on a shared daemon")
    prune.add_argument("--dry-run", action="store_true", help="list, remove nothing")

    def group(name: str, help_text: str) -> Any:
        """A command with subcommands of its own (``node ls``); its parser's
        ``add_parser(NAME, help)`` adds one."""
        parent = sub.add_parser(name, help=help_text, description=help_text)
        inner = parent.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")

        def add(sub_name: str, sub_help: str, description: str | None = None) -> Any:
            return inner.add_parser(sub_name, parents=[common], help=sub_help,
                                    description=description or sub_help)

        return add

    node = group("node", "manage the nodes of a swarm (on a manager)")
    node_ls = node(
        "ls", "list the swarm's nodes",
        "List the nodes of the swarm this engine manages, as docker node ls does (the engine's "
        "own node is marked *). With --json, one array of the Engine's node objects.",
    )
    node_ls.add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                         help="filter, e.g. role=manager, name=NAME, node.label=zone=a")

    swarm = group("swarm", "create or leave a swarm")
    swarm_init = swarm(
        "init", "make this engine the first manager of a new swarm",
        "Create a swarm with this engine as its manager and print the command that joins a "
        "worker. With --json, one {node_id, join_addr, worker_token, manager_token, "
        "unlock_key} object.",
    )
    swarm_init.add_argument("--advertise-addr", metavar="ADDR[:PORT]",
                            help="the address other nodes reach this one at (IP or interface)")
    swarm_init.add_argument("--listen-addr", default="0.0.0.0:2377", metavar="ADDR[:PORT]",
                            help="where to listen for other nodes (default: 0.0.0.0:2377)")
    swarm_init.add_argument("--data-path-port", type=int, metavar="PORT",
                            help="UDP port of overlay network traffic (default: 4789)")
    swarm_init.add_argument("--autolock", action="store_true",
                            help="lock managers after a restart; prints the unlock key")
    swarm_init.add_argument("--force-new-cluster", action="store_true",
                            help="make a new swarm from this node's old state (recovery)")
    swarm_leave = swarm("leave", "leave the swarm",
                        "Leave the swarm. The last manager leaves only with --force, which "
                        "ends the swarm and its services.")
    swarm_leave.add_argument("-f", "--force", action="store_true",
                             help="leave even if this breaks the swarm (its last manager)")
    return parser


def tail(value: str) -> int | str:
    """``--tail``: a number of lines, or ``all``."""
    if value == "all":
        return value
    with contextlib.suppress(ValueError):
        if (lines := int(value)) >= 0:
            return lines
    raise argparse.ArgumentTypeError(f"a number of lines or 'all', not {value!r}")


_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhd])+|\d+(?:\.\d+)?")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """``--older-than``: seconds (``90``, ``1.5``) or a duration such as ``30m``, ``1h30m``,
    ``2d``, as a number of seconds."""
    value = text.strip()
    if not _DURATION.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: use seconds or e.g. 30m, 1h, 2d, 1h30m"
        )
    return sum(float(n) * _UNITS[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)([smhd]?)", value))


def check_build(args: argparse.Namespace) -> str | None:
    """What is wrong with ``build``'s arguments taken together, or ``None``; sets
    ``args.dockerfile``, the Dockerfile's path inside the context."""
    context = os.path.abspath(args.path)
    dockerfile = os.path.abspath(args.file) if args.file else os.path.join(context, "Dockerfile")
    inside = os.path.relpath(dockerfile, context)
    if inside == os.pardir or inside.startswith(os.pardir + os.sep):
        return f"-f {args.file}: the Dockerfile must be inside the context {args.path}"
    if not os.path.isfile(dockerfile):
        return (f"-f {args.file}: no such file" if args.file else
                f"no Dockerfile in {args.path} (name it with -f FILE)")
    args.dockerfile = Path(inside).as_posix()
    if args.secret and args.builder == "classic":
        return "--secret needs BuildKit (--builder buildkit): the classic builder has none"
    if args.ssh and args.builder == "classic":
        return "--ssh needs BuildKit (--builder buildkit): the classic builder has none"
    return None


def context_dir(text: str) -> str:
    """``build PATH``: an existing directory."""
    if not os.path.isdir(text):
        what = "not a directory" if os.path.exists(text) else "no such directory"
        raise argparse.ArgumentTypeError(f"{text!r}: {what} (the context must be a directory)")
    return text


def key_value(text: str) -> tuple[str, str | None]:
    """``--build-arg KEY=VALUE``; ``KEY`` alone takes our environment's value (``None``: it
    is not set, and the Dockerfile's default stays), as the Docker CLI does."""
    key, sep, value = text.partition("=")
    if not key or key != key.strip() or not re.fullmatch(r"[^\s=]+", key):
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (or KEY)")
    return key, value if sep else os.environ.get(key)


def label(text: str) -> tuple[str, str]:
    """``--label KEY=VALUE`` (``KEY`` alone: an empty value, as the Docker CLI does)."""
    key, _, value = text.partition("=")
    if not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def ssh_agent(text: str) -> tuple[str, str | None]:
    """``--ssh default``, ``--ssh ID=SOCKET``, as the Docker CLI takes them: the id and the
    agent socket's path (``None``: ``$SSH_AUTH_SOCK``); ``images.build`` checks the socket."""
    id_, sep, path = text.partition("=")
    if not id_ or "," in id_ or (sep and not path):
        raise argparse.ArgumentTypeError(f"{text!r} is not default, ID or ID=SOCKET")
    if "," in path:
        raise argparse.ArgumentTypeError(f"{text!r}: one agent socket per id")
    return id_, path if sep else None


def secret(text: str) -> tuple[str, bytes | Path]:
    """``--secret id=ID,src=PATH`` (or ``source=``), ``id=ID,env=VAR``, ``type=file|env``,
    as the Docker CLI takes it: the id and the file's path or the variable's value. Without
    ``src`` or ``env``, the variable named ID if it is set, else the file ID. The id
    defaults to the file's name."""
    fields: dict[str, str] = {}
    for field in next(csv.reader([text])) if text else []:
        key, sep, value = field.partition("=")
        key = key.strip().lower()
        key = "src" if key == "source" else key
        if not sep or key not in ("type", "id", "src", "env"):
            raise argparse.ArgumentTypeError(
                f"{text!r}: {field!r} is not one of id=ID, src=PATH, env=VAR, type=file|env")
        fields[key] = value
    kind = fields.get("type")
    if kind not in (None, "file", "env"):
        raise argparse.ArgumentTypeError(f"{text!r}: type is file or env, not {kind!r}")
    if kind == "env" and "env" not in fields:
        fields["env"] = fields.pop("src", "") or fields.get("id", "")
    src, env = fields.get("src"), fields.get("env")
    id_ = fields.get("id") or (os.path.basename(src) if src else "")
    if not id_:
        raise argparse.ArgumentTypeError(f"{text!r} has no id: write id=ID,src=PATH")
    if src is None and env is None:
        if id_ in os.environ and kind != "file":
            env = id_
        else:
            src = id_
    if env is not None:
        if env not in os.environ:
            raise argparse.ArgumentTypeError(f"{text!r}: the variable {env} is not set")
        return id_, os.environ[env].encode()
    assert src is not None
    if not os.path.isfile(src):
        raise argparse.ArgumentTypeError(f"{text!r}: no such file {src!r}")
    return id_, Path(src)
