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

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_options: object) -> object:
        return lambda cls: cls


__all__ = ["Model"]


# msgspec passes ``frozen``, ``omit_defaults`` and ``rename`` down to subclasses, but type
# checkers read a subclass's own keywords only (a subclass without ``frozen=True`` would be a
# mutable dataclass deriving from a frozen one, an error). This restates ``frozen`` for them, so
# subclasses write ``class X(Model):``. It only exists while type checking: typing_extensions is
# not a runtime dependency. ``kw_only`` is not inherited (msgspec, like dataclasses, applies it to
# the fields a class defines itself, and Model has none), so subclasses take positional
# arguments too, and the type checkers are told the same.
@dataclass_transform(frozen_default=True, field_specifiers=(msgspec.field,))
class Model(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="pascal"):
    """Base class of all Engine API structs: frozen, PascalCase on the wire."""
