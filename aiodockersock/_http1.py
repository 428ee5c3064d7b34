"""The HTTP/1.1 of an upgrade request, for :meth:`Transport.upgrade
<aiodockersock._transport.Transport.upgrade>`: the request head, the response head, and the
body of a refusal.

aiohttp's pool cannot hand over a connection that switched protocols, so the few bytes of HTTP
an upgrade needs are written and parsed here, over a connection from the same factory
(:mod:`aiodockersock._connect`). Part of the transport layer: only the transport imports it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Final

from ._exceptions import DockerConnectionError

__all__ = ["ERROR_BODY_MAX", "parse_head", "read_error_body", "read_head", "request_head"]

#: The most of a refusal's body that is read (the daemon's message is short).
ERROR_BODY_MAX: Final = 64 * 1024
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([0-9]{3})(?: |\r?$)")


def request_head(
    method: str, target: str, host: str, headers: Mapping[str, str | Sequence[str]], length: int,
    protocol: str,
) -> bytes:
    """The head of a request that asks to switch the connection to ``protocol`` (a header given
    a sequence of values is repeated, once per value)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        values = [value] if isinstance(value, str) else value
        lines += [f"{name}: {v}" for v in values]
    lines += [f"Content-Length: {length}", "Connection: Upgrade", f"Upgrade: {protocol}", "", ""]
    return "\r\n".join(lines).encode("latin-1")


async def read_head(reader: asyncio.StreamReader, address: str) -> tuple[int, dict[str, str]]:
    """Read and parse a response head (see :func:`parse_head`).

    Raises:
        DockerConnectionError: the connection closed first, the head is longer than the
            reader's limit, or it is not HTTP/1.x.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        got = f" after {exc.partial[:200]!r}" if exc.partial else ""
        raise DockerConnectionError(
            f"{address} closed the connection before the response head was complete{got}",
            address=address,
        ) from None
    except asyncio.LimitOverrunError:
        raise DockerConnectionError(
            f"the response head from {address} is longer than the reader's limit; is it a "
            "Docker Engine?",
            address=address,
        ) from None
    return parse_head(head, address)


def parse_head(head: bytes, address: str) -> tuple[int, dict[str, str]]:
    """Parse an HTTP/1.x response head (status line and headers, ending in a blank line).

    Header names are normalised to ``Title-Case``.

    Raises:
        DockerConnectionError: it is not an HTTP/1.x response.
    """
    lines = head.split(b"\r\n")
    match = _STATUS_LINE.match(lines[0])
    if match is None:
        raise DockerConnectionError(
            f"{address} answered something that is not an HTTP/1.1 response: {lines[0][:200]!r}",
            address=address,
        )
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().decode("latin-1").title()] = value.strip().decode("latin-1")
    return int(match.group(1)), headers


async def read_error_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    """The body of a refusal: by Content-Length, chunked, or up to the end; at most
    :data:`ERROR_BODY_MAX` bytes."""
    length = headers.get("Content-Length", "")
    if length.isdigit():
        try:
            return await reader.readexactly(min(int(length), ERROR_BODY_MAX))
        except asyncio.IncompleteReadError as exc:
            return exc.partial
    parts: list[bytes] = []
    size = 0
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        while size < ERROR_BODY_MAX:
            try:
                line = await reader.readuntil(b"\r\n")
                chunk_size = int(line.split(b";")[0].strip(), 16)
                if chunk_size == 0:
                    break
                wanted = min(chunk_size, ERROR_BODY_MAX - size)
                parts.append(await reader.readexactly(wanted))
                size += wanted
                if wanted < chunk_size:
                    break  # the cap: the rest is not read
                await reader.readexactly(2)  # the chunk's CRLF
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                break
        return b"".join(parts)
    # dockerd answers a failed attach with a plain-text body ended by closing the connection
    while size < ERROR_BODY_MAX:
        chunk = await reader.read(ERROR_BODY_MAX - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)
