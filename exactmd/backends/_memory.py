"""The one memory check: bytes needed against the bytes a backend may use, before allocating.

Every plan in exactmd reads its budget with :func:`memory_budget` (the one budget rule:
``MEMORY_SAFETY_FRACTION`` of what the backend reports available, or the bytes a caller
passes) and refuses with :func:`require_fits` (the one message: what was planned, the bytes
needed, with their parts, and the bytes available).

Examples
--------
>>> from exactmd.backends import get_backend
>>> require_fits(1024, get_backend(name="numpy"), "p: a demo", {"table": 1000, "index": 24})
1024
>>> require_fits(1024, get_backend(name="numpy"), "p: a demo", available=1000)
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
exactmd.errors.MemoryPlanError: p: a demo needs about 0.00 GiB (1024 bytes) but only ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from exactmd.backends.base import MEMORY_SAFETY_FRACTION, Backend
from exactmd.errors import MemoryPlanError

__all__ = ["Budget", "memory_budget", "require_fits"]


@dataclass(frozen=True)
class Budget:
    """The bytes a plan may use, and where they come from (said in a refusal).

    Attributes
    ----------
    bytes : int
        The bytes the plan may use.
    source : str
        How the bytes were read, as the end of a sentence: ``"are available on …"`` or
        ``"may be used: 80% of the … bytes available on …"``.
    """

    bytes: int
    source: str


def memory_budget(backend: Any, available: int | None = None) -> Budget:
    """The budget of a plan on ``backend``: ``available`` bytes when given, else what the
    backend may use (:meth:`~exactmd.backends.base.Backend.usable_memory`, i.e.
    ``MEMORY_SAFETY_FRACTION`` of :meth:`~exactmd.backends.base.Backend.available_memory`).

    ``backend`` may also be any object with a ``usable_memory()`` method (a rank's share of a
    device, say), named by its ``repr``.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> memory_budget(get_backend(name="numpy"), 100)
    Budget(bytes=100, source="are available on NumpyBackend(dtype='float64')")
    """
    if available is not None:
        have = int(available)
        return Budget(have, f"are available on {backend!r}")
    if isinstance(backend, Backend) and type(backend).usable_memory is Backend.usable_memory:
        reported = int(backend.available_memory())  # read once: the fraction is exact
        have = int(MEMORY_SAFETY_FRACTION * reported)
        return Budget(
            have,
            f"may be used: {MEMORY_SAFETY_FRACTION:.0%} of the {reported} bytes available on "
            f"{backend!r}",
        )
    have = int(backend.usable_memory())
    return Budget(have, f"may be used on {backend!r}")


def _gib(n: int) -> str:
    """``n`` bytes in GiB, also past the float range (as a power of 2)."""
    if n.bit_length() > 1000:
        return f"2^{math.log2(n) - 30:.1f}"
    return f"{n / 2**30:.2f}"


def _count(n: int) -> str:
    return str(n) if n.bit_length() <= 64 else f"2^{math.log2(n):.1f}"


def require_fits(
    needed: int,
    backend: Any,
    what: str,
    parts: dict[str, int] | None = None,
    *,
    available: int | Budget | None = None,
    error: type[MemoryPlanError] = MemoryPlanError,
    needs: str = "needs about",
    hint: str = "",
) -> int:
    """Return ``needed`` when it fits in the budget, else raise ``error`` before anything is
    allocated.

    Parameters
    ----------
    needed
        Peak bytes the planned work allocates.
    backend
        Where it runs: a :class:`~exactmd.backends.Backend` (or any object with a
        ``usable_memory()`` method).
    what
        What was planned, starting with the argument that makes the work large
        (``"n: 10 samples of N = 3"``).
    parts
        The bytes of each part of ``needed``, named in the message.
    available
        The budget: bytes (said to be "available"), a :class:`Budget` already read (so that a
        plan that chose with it refuses with the same number), or None for
        :func:`memory_budget` of ``backend``.
    error
        The class raised: :class:`~exactmd.errors.MemoryPlanError` or a subclass (e.g.
        :class:`~exactmd.errors.ModelSizeError` for a model builder).
    needs
        The verb before the amount (``"need at least"`` for the least over several plans).
    hint
        Said after the budget (``"; draw them in batches"``).

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> require_fits(10, get_backend(name="numpy"), "p: a demo", available=10)
    10
    """
    needed = int(needed)
    budget = available if isinstance(available, Budget) else memory_budget(backend, available)
    if needed > budget.bytes:
        detail = "" if not parts else ": " + ", ".join(f"{k} {v} bytes" for k, v in parts.items())
        raise error(
            f"{what} {needs} {_gib(needed)} GiB ({_count(needed)} bytes{detail}) but only "
            f"{_gib(budget.bytes)} GiB ({budget.bytes} bytes) {budget.source}{hint}"
        )
    return needed
