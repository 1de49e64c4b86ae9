"""The checks a numeric probability table passes before it becomes a law.

:func:`exactmd.law.distribution.as_distribution` sends every numeric table (numpy array,
torch tensor, nested lists of real numbers) through :func:`numeric_table`. The rules:

- at least one axis (N >= 1), and no zero-size axis;
- real, finite, non-negative entries;
- a total within ``TOTAL_ATOL`` of 1 (``1e-8`` in float64, ``1e-5`` for float32 input, and for
  half-precision input ``1e-3`` (float16) and ``1e-2`` (bfloat16), see :data:`HALF_ATOL`).

Half-precision input (numpy or torch ``float16``, torch ``bfloat16``) is read into float64 and
checked with the looser tolerance (its entries carry relative rounding errors of up to 2^-11
and 2^-8). **Every accepted table is normalised**: it is divided by its total (summed in
float64) once, in the working precision, so a float64 table summing to ``1 + 5e-9`` is the
law ``table / (1 + 5e-9)``. The result is a fresh array, never a view of the caller's buffer,
and read-only on numpy. Before a large table is copied (to another dtype or device, or out of
a zero-stride view) the copy and the checks' temporaries are checked against the memory
available (``exactmd.backends._memory.require_fits``), raising
:class:`~exactmd.errors.MemoryPlanError` instead of allocating.

Examples
--------
>>> from exactmd.backends import get_backend
>>> numeric_table([[1, 1], [2, 0]], get_backend(name="numpy"), "p")
Traceback (most recent call last):
...
exactmd.errors.DistributionError: p: entries must sum to 1 within 1e-08; received a total of 4
>>> numeric_table([0.25, 0.75], get_backend(name="numpy"), "p").tolist()
[0.25, 0.75]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactmd._validate import check_axes
from exactmd.backends import Backend, is_torch_tensor
from exactmd.backends._memory import require_fits
from exactmd.errors import DistributionError, MemoryPlanError, describe
from exactmd.law.coerce import object_to_float

__all__ = [
    "TOTAL_ATOL",
    "TOTAL_ATOL_FLOAT32",
    "HALF_ATOL",
    "numeric_table",
    "table_free_refusal",
]

TOTAL_ATOL = 1e-8
TOTAL_ATOL_FLOAT32 = 1e-5
#: Tolerance on the total of half-precision input (read into float64, then renormalised).
HALF_ATOL = {"float16": 1e-3, "bfloat16": 1e-2}
#: Tables needing fewer bytes than this for their copy and checks are not memory-checked.
_CHECK_FITS_ABOVE = 64 * 2**20


def numeric_table(p: Any, be: Backend, name: str) -> Any:
    """``p`` checked by the rules above and divided by its total: a fresh native array of
    ``be`` (a numeric backend), read-only on numpy.

    Raises
    ------
    DistributionError
        On any broken rule; the message names ``name``, the rule and the value received.
    MemoryPlanError
        When the copy and the checks of a large table do not fit.
    """
    host, raw_dtype = _host_of(p, name)
    if not (np.issubdtype(host.dtype, np.number) or host.dtype == bool):
        raise DistributionError(
            f"{name}: entries must be real numbers; received dtype {host.dtype}"
        )
    if np.iscomplexobj(host):
        raise DistributionError(f"{name}: entries must be real; received dtype {host.dtype}")
    check_axes(host.shape, name, host)
    _check_fits(host, be, name)  # the law is always a fresh copy (normalised)
    atol = HALF_ATOL.get(raw_dtype, TOTAL_ATOL)
    if raw_dtype == "float32" or be.dtype == "float32":
        atol = max(atol, TOTAL_ATOL_FLOAT32)
    total = _check_table(host, name, atol=atol)
    if raw_dtype in HALF_ATOL:  # numpy has no bfloat16: half precision is read as float64
        host = host.astype(np.float64)
    # the law is the table divided by its total, once, in the working precision: a fresh array
    # that the Distribution owns (never a view of the caller's buffer), read-only on numpy
    table = be.asarray(p if is_torch_tensor(p) and raw_dtype not in HALF_ATOL else host) / total
    if isinstance(table, np.ndarray):
        table.setflags(write=False)
    return table


def _host_of(p: Any, name: str) -> tuple[np.ndarray, str]:
    """``p`` as a numpy array (not yet validated) and the name of its original dtype."""
    if is_torch_tensor(p):
        raw_dtype = str(p.dtype).replace("torch.", "")
        t = p.detach()
        if raw_dtype in HALF_ATOL:  # numpy has no bfloat16: read half precision as float64
            import torch

            t = t.to(dtype=torch.float64)
        return t.cpu().numpy(), raw_dtype
    try:
        host = np.asarray(p)
    except (ValueError, TypeError) as exc:
        raise DistributionError(
            f"{name}: must be a rectangular array of probabilities (these nested lists are "
            f"ragged); received {describe(p)} ({exc})"
        ) from exc
    raw_dtype = str(host.dtype)
    if host.dtype == object:
        host = object_to_float(host, p, name)
    return host, raw_dtype


def _check_fits(host: np.ndarray, be: Backend, name: str) -> None:
    """Refuse, before allocating, a table whose checks and normalised copy do not fit."""
    cells = int(np.prod(host.shape, dtype=np.float64))
    needed = cells * (1 + (0 if host.dtype == np.float64 else 8) + be.itemsize)
    if needed >= _CHECK_FITS_ABOVE:
        what = f"{name}: validating and storing a table of shape {tuple(host.shape)}"
        require_fits(needed, be, what)


def table_free_refusal(p: Any, name: str) -> MemoryPlanError:
    """The refusal of a law that holds its parameters and no table (``holds_table = False``,
    e.g. :class:`exactmd.models.chains.MarkovChainLaw`), before anything is allocated: it
    names the shape, the bytes the float64 table would take, and what works without it."""
    q, n = int(getattr(p, "q", 0)), int(getattr(p, "n", 0))
    bits = n * np.log2(max(q, 1)) + 3
    size = f"{8 * q**n} bytes" if bits < 64 else f"2^{bits:.6g} bytes"
    works = ", ".join(getattr(p, "without_table", ()))
    kind = getattr(p, "kind", type(p).__name__)
    return MemoryPlanError(
        f"{name}: a {kind} law of N = {n} variables holds its parameters, not its table of "
        f"shape ({q},) * {n} ({size} in float64); functions that need the table refuse it. "
        f"Without the table: {works}; for a table, build the law with table=True when it "
        f"fits; received {describe(p)}"
    )


def _check_table(host: np.ndarray, name: str, atol: float = TOTAL_ATOL) -> float:
    """Check finiteness, signs and the total (within ``atol``); return the total.

    The caller (:func:`numeric_table`) has already run ``check_axes`` on ``host``."""
    values = host.astype(np.float64, copy=False)
    if not np.all(np.isfinite(values)):
        bad = np.argwhere(~np.isfinite(values))[0]
        raise DistributionError(
            f"{name}: entries must be finite (no NaN or inf); received "
            f"{values[tuple(bad)]} at index {tuple(int(b) for b in bad)}"
        )
    if np.any(values < 0):
        bad = np.argwhere(values < 0)[0]
        raise DistributionError(
            f"{name}: entries must be >= 0; received {values[tuple(bad)]} at index "
            f"{tuple(int(b) for b in bad)}"
        )
    total = float(values.sum(dtype=np.float64))
    if abs(total - 1.0) > atol:
        raise DistributionError(
            f"{name}: entries must sum to 1 within {atol:g}; received a total of {total:.12g}"
        )
    return total
