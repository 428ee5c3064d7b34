"""The base every model derives from.

Structs follow the wire: attribute names are snake_case and map to the Engine's PascalCase JSON
names (``rename="pascal"``); names the Engine spells irregularly (``ID``, ``IPAddress``,
``OSType`` …) are mapped one by one with ``msgspec.field(name=...)``.

Every field the Engine does not guarantee defaults to ``None`` (older daemons omit fields, and
many send ``null`` for empty lists and maps). Unknown fields from newer daemons are ignored.
A field left at ``None`` is not sent when a struct is encoded as a request body
(``omit_defaults=True``), so the daemon applies its own default.
"""

from __future__ import annotations

import msgspec

__all__ = ["Model"]


class Model(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="pascal"):
    """Base class of all Engine API structs: frozen, keyword-only, PascalCase on the wire."""
