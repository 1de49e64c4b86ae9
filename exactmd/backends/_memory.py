"""The one memory check: bytes needed against the bytes a backend may use, before allocating.

Examples
--------
>>> from exactmd.backends import get_backend
>>> require_fits(1024, get_backend(name="numpy"), "p: a demo", {"table": 1000, "index": 24})
1024
"""

from __future__ import annotations

from typing import Any

from exactmd.backends.base import MEMORY_SAFETY_FRACTION
from exactmd.errors import MemoryPlanError

__all__ = ["require_fits"]


def require_fits(needed: int, backend: Any, what: str, parts: dict[str, int] | None = None) -> int:
    """Return ``needed`` when it fits in ``backend.usable_memory()``, else raise
    :class:`~exactmd.errors.MemoryPlanError` before anything is allocated.

    ``what`` starts with the argument that makes the work large (``"n: 10 samples of N = 3"``);
    the message adds the bytes needed (with ``parts``, when given), the bytes usable and the
    backend.
    """
    needed = int(needed)
    available = int(backend.usable_memory())
    if needed > available:
        detail = "" if not parts else ": " + ", ".join(f"{k} {v} bytes" for k, v in parts.items())
        raise MemoryPlanError(
            f"{what} needs about {needed / 2**30:.2f} GiB ({needed} bytes{detail}) but only "
            f"{available / 2**30:.2f} GiB ({available} bytes) may be used on {backend!r} "
            f"({MEMORY_SAFETY_FRACTION:.0%} of its available memory)"
        )
    return needed
