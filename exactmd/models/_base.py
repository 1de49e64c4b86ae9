"""Shared helpers of the model builders: memory plans, validation of parameters, the result.

Every builder in :mod:`exactmd.models` ends with :func:`finish`, which validates the table with
:func:`~exactmd.law.distribution.as_distribution` and returns a
:class:`~exactmd.law.distribution.Distribution` carrying the variable and state names.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from exactmd._validate import as_float_array, check_int, check_real
from exactmd.backends import Backend, get_backend
from exactmd.backends._memory import Budget, memory_budget, require_fits
from exactmd.errors import DistributionError, ModelError, ModelSizeError, describe
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.law.tables import TOTAL_ATOL

__all__ = [
    "resolve_backend",
    "plan_cells",
    "plan_build",
    "plan_repeat",
    "MAX_AXES",
    "finish",
    "normalise_log_weights",
    "log_weight_scale",
    "real_parameter",
    "prob_vector",
    "stochastic_matrix",
    "positive_int",
    "quiet_pgmpy",
    "one_line",
]


#: The most axes a joint may have: numpy arrays hold at most 64 dimensions.
MAX_AXES = 64


def resolve_backend(backend: str | None, device: Any) -> Backend:
    """The :class:`~exactmd.backends.Backend` for a builder's ``backend``/``device`` arguments."""
    return get_backend(None, backend, device=device)


def plan_cells(
    shape: Sequence[int],
    backend: Backend,
    *,
    copies: float = 3.0,
    name: str = "model",
    max_bytes: int | None = None,
    note: str = "",
) -> int:
    """Check that a joint of ``shape`` fits in memory before allocating it.

    Parameters
    ----------
    shape
        Alphabet sizes of the joint.
    backend
        Where the joint will live (its free memory is the limit).
    copies
        Peak number of joint-sized arrays alive while building it.
    name
        The argument named in the error message.
    max_bytes
        An explicit limit in bytes (default: the memory the backend reports available).
    note
        Said after the joint's size in the message, e.g. an intermediate table the build
        needs (counted in ``copies``).

    Returns
    -------
    int
        The number of cells Π q_i.

    Raises
    ------
    ModelSizeError
        When the bytes needed exceed the limit; the message gives the size and both byte counts.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> plan_cells((2, 3), get_backend(name="numpy"))
    6
    >>> plan_cells((2,) * 64, get_backend(name="numpy"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelSizeError: model: the joint of 64 variables has 1.845e+19 cells ...
    """
    budget = memory_budget(backend, None if max_bytes is None else int(max_bytes))
    bits = math.fsum(math.log2(max(int(q), 1)) for q in shape)  # a 0 axis: refused later
    _refuse_bits(len(shape), bits, backend, copies, name, note, budget)
    cells = math.prod(int(q) for q in shape)
    needed = -(-cells * backend.itemsize * round(copies * 100) // 100)  # exact integer ceiling
    big = cells < 1 or cells.bit_length() > 1000  # a 0 axis is refused later
    exponent = "" if big else f" (2^{math.log2(cells):.1f})"
    require_fits(
        needed,
        backend,
        f"{name}: the joint of {len(shape)} variables has {_big(cells)} cells{exponent}{note} and",
        available=budget,
        error=ModelSizeError,
        hint="; too large to enumerate",
    )
    _refuse_axes(len(shape), name, note)
    return cells


def _refuse_bits(
    axes: int, bits: float, backend: Backend, copies: float, name: str, note: str, budget: Budget
) -> None:
    """Refuse a joint of ``2^bits`` cells beyond any memory (no huge exact product formed)."""
    if bits > 900:
        raise ModelSizeError(
            f"{name}: the joint of {_count(axes)} variables has 2^{_exp(bits)} cells{note} and "
            f"needs about 2^{_exp(bits + math.log2(backend.itemsize * copies))} "
            f"bytes but only {budget.bytes / 2**30:.2f} GiB ({budget.bytes} bytes) "
            f"{budget.source}; too large to enumerate"
        )


def _count(x: int) -> str:
    """A count of variables: every digit up to 10^15, then 4 significant digits."""
    return str(x) if x < 10**15 else f"{float(x):.4g}"


def _exp(bits: float) -> str:
    return f"{bits:.1f}" if bits < 1e6 else f"{bits:.4g}"


def _refuse_axes(axes: int, name: str, note: str) -> None:
    if axes > MAX_AXES:
        raise ModelSizeError(
            f"{name}: the joint has {_count(axes)} variables{note}, but a table holds at most "
            f"{MAX_AXES} axes; too large to enumerate"
        )


def _big(x: float) -> str:
    """``x`` to 4 significant digits, also beyond the float range (as a power of 2)."""
    if isinstance(x, int) and x.bit_length() > 1000:
        return f"2^{math.log2(x):.1f}"
    return str(x) if isinstance(x, int) and x < 10**6 else f"{float(x):.4g}"


def plan_build(
    shape: Sequence[int], backend: Backend, copies: float, name: str, note: str = ""
) -> int:
    """Plan a joint built in host (numpy) memory with ``copies`` peak tables, then moved to
    ``backend`` (checked for one table there when it is not numpy); ``note`` as in
    :func:`plan_cells`.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> plan_build((2, 2), get_backend(name="numpy"), 2.0, "n")
    4
    """
    cells = plan_cells(shape, get_backend(name="numpy"), copies=copies, name=name, note=note)
    if backend.name != "numpy":
        plan_cells(shape, backend, copies=1.0, name=name)
    return cells


def plan_repeat(q: int, n: int, backend: Backend, copies: float, name: str, note: str = "") -> int:
    """:func:`plan_build` for the joint of ``n`` variables with ``q`` values each, without
    forming the shape ``(q,) * n`` first: a huge ``n`` (10^20) is refused at once, naming
    ``name``.

    Examples
    --------
    >>> from exactmd.backends import get_backend
    >>> plan_repeat(2, 3, get_backend(name="numpy"), 2.0, "n")
    8
    >>> plan_repeat(2, 10**20, get_backend(name="numpy"), 2.0, "n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelSizeError: n: the joint of 1e+20 variables has 2^1e+20 cells ...
    """
    numpy = get_backend(name="numpy")
    _refuse_bits(n, n * math.log2(max(int(q), 1)), numpy, copies, name, note, memory_budget(numpy))
    if int(q) <= 1:  # one cell, but maybe too many axes (q >= 2: n <= 900 here)
        _refuse_axes(n, name, note)
    return plan_build((int(q),) * int(n), backend, copies, name, note)


def finish(
    table: Any,
    backend: Backend,
    names: Sequence[str] | None = None,
    state_names: Sequence[Sequence[Any]] | None = None,
    *,
    name: str = "model",
) -> Distribution:
    """Validate ``table`` (numpy or torch) and return it as a named Distribution on ``backend``."""
    try:
        d = as_distribution(table, backend=backend.name, device=_device(backend), name=name)
    except DistributionError as exc:  # a builder bug or a degenerate model: never silent
        raise ModelError(f"{name}: the enumerated joint is not a law: {exc}") from exc
    return Distribution(d.table, d.backend, names=names, state_names=state_names)


def normalise_log_weights(
    logw: np.ndarray, scale: float = 1.0, *, name: str = "model"
) -> np.ndarray:
    """exp(scale · (logw − max logw)) / Σ exp(scale · (logw − max logw)), in place.

    Subtracting the maximum first makes the largest weight exp(0) = 1, so the exponentials never
    overflow and the total is at least 1: large but finite log-weights give the correct,
    near-deterministic law and never NaN. ``scale`` (finite, > 0) multiplies the log-weights
    after the maximum is subtracted: a builder whose log-weights could overflow float64
    accumulates them divided by ``scale`` (see :func:`log_weight_scale`).

    Raises
    ------
    ModelError
        When a log-weight is NaN or +inf (a builder must check its parameters first); ``name``
        is named in the message.

    Examples
    --------
    >>> normalise_log_weights(np.array([0.0, np.log(3.0)])).round(12).tolist()
    [0.25, 0.75]
    >>> normalise_log_weights(np.array([1.0, 3.0]), scale=1e308).tolist()  # exp(2e308) ratio
    [0.0, 1.0]
    """
    top = float(logw.max())
    if not math.isfinite(top) or bool(np.isnan(logw).any()):
        raise ModelError(
            f"{name}: the log-weights must be finite (the parameters could not give a law in "
            f"float64); received a largest log-weight of {top!r}"
        )
    logw -= top
    if scale != 1.0:
        with np.errstate(over="ignore"):
            logw *= scale  # may reach -inf: exp gives 0, the right limit
    np.exp(logw, out=logw)
    logw /= logw.sum()
    return logw


def log_weight_scale(values: Sequence[float], terms: int, bound: float = 1.0) -> float:
    """The scale to accumulate log-weights by: 1 when ``terms`` terms of magnitude at most
    ``bound`` · max|values| cannot overflow float64 (the usual case: unchanged arithmetic),
    else max|values| (the terms are then divided by it, so each log-weight stays in
    [−terms·bound, terms·bound], and :func:`normalise_log_weights` multiplies back).

    Examples
    --------
    >>> log_weight_scale([0.5, -2.0], terms=10)
    1.0
    >>> log_weight_scale([1e308, -3e307], terms=3)
    1e+308
    """
    top = max((abs(float(v)) for v in values), default=0.0)
    limit = 1e300 / max(1, terms) / max(bound, 1e-300)
    return top if top > limit else 1.0


def real_parameter(value: Any, name: str, **rules: Any) -> float:
    """A model parameter checked by the one scalar rule of exactmd
    (:func:`~exactmd._validate.check_real`), refused with a :class:`ModelError`.

    ``rules`` are :func:`~exactmd._validate.check_real`'s keywords (``minimum``, ...).

    Examples
    --------
    >>> real_parameter(np.float32(0.5), "coupling")
    0.5
    >>> real_parameter(float("inf"), "coupling")
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelError: coupling: must be a finite real number; received inf
    """
    return check_real(value, name, error=ModelError, **rules)


def _device(backend: Backend) -> Any:
    return getattr(backend, "device", None)


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int ``>= minimum`` or raise :class:`ModelError`.

    Examples
    --------
    >>> positive_int(3, "n")
    3
    >>> positive_int(0, "n")
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelError: n: must be an integer >= 1; received 0
    """
    return check_int(value, name, minimum, error=ModelError)


def _finite_array(value: Any, name: str) -> np.ndarray:
    arr = as_float_array(value, name, "an array of numbers", ModelError)
    if not np.all(np.isfinite(arr)):
        raise ModelError(f"{name}: entries must be finite; received {describe(value)}")
    return arr


def prob_vector(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as a float64 probability vector (non-negative, sums to 1 within 1e-8).

    Examples
    --------
    >>> prob_vector([0.25, 0.75], "init")
    array([0.25, 0.75])
    """
    arr = _finite_array(value, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ModelError(f"{name}: must be a non-empty 1-D vector; received shape {arr.shape}")
    if np.any(arr < 0):
        raise ModelError(f"{name}: entries must be >= 0; received {describe(value)}")
    if abs(float(arr.sum()) - 1.0) > TOTAL_ATOL:
        raise ModelError(
            f"{name}: entries must sum to 1 within {TOTAL_ATOL:g}; received a total of "
            f"{float(arr.sum()):.12g}"
        )
    return arr


def stochastic_matrix(value: Any, name: str, rows: int | None = None) -> np.ndarray:
    """Return ``value`` as a row-stochastic float64 matrix (each row sums to 1 within 1e-8).

    Examples
    --------
    >>> stochastic_matrix([[0.9, 0.1], [0.2, 0.8]], "transition").shape
    (2, 2)
    """
    arr = _finite_array(value, name)
    if arr.ndim != 2 or arr.size == 0:
        raise ModelError(f"{name}: must be a non-empty 2-D matrix; received shape {arr.shape}")
    if rows is not None and arr.shape[0] != rows:
        raise ModelError(f"{name}: must have {rows} rows; received shape {arr.shape}")
    if np.any(arr < 0):
        raise ModelError(f"{name}: entries must be >= 0; received {describe(value)}")
    sums = arr.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > TOTAL_ATOL)
    if bad.size:
        raise ModelError(
            f"{name}: every row must sum to 1 within {TOTAL_ATOL:g}; row {int(bad[0])} sums to "
            f"{float(sums[bad[0]]):.12g}"
        )
    return arr


@contextlib.contextmanager
def quiet_pgmpy() -> Iterator[None]:
    """Silence pgmpy's log messages and Python warnings inside the block."""
    logger = logging.getLogger("pgmpy")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def one_line(exc: BaseException, limit: int = 200) -> str:
    """``TypeName: message`` of an exception on one line, at most ``limit`` characters.

    Examples
    --------
    >>> one_line(ValueError("bad\\n   value"))
    'ValueError: bad value'
    """
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
