"""Public queries on a law: marginals, conditionals, subset entropies, the masked tensor, plans.

These are the versions exported as ``exactmd.marginal``, ``exactmd.conditional`` and, in
:mod:`exactmd.enumeration`, ``subset_entropy``, ``subset_entropies``, ``masked_tensor`` and
``plan_subset_entropies``. Like every contract function they take anything
:func:`~exactmd.law.distribution.as_distribution` accepts (numpy arrays, torch tensors, nested
lists, a :class:`~exactmd.law.distribution.Distribution`, sympy tables) and return host values:

- scalars as Python ``float`` (for a symbolic law: an exact sympy expression);
- arrays as new float64 numpy arrays, whatever the backend or its dtype (for a symbolic law:
  numpy object arrays of exact expressions). They are copies: changing them does not touch
  the law's cache.

Variable indices must be Python or numpy integers (never floats, strings or bools), each once,
in ``range(N)``; anything else raises :class:`~exactmd.errors.ValidationError`.

The functions of the same names in :mod:`exactmd.enumeration.masked` (and
:func:`exactmd.enumeration.conditionals.conditional`) are the internal ones: they take a
:class:`~exactmd.law.distribution.Distribution` and return backend-native arrays (numpy arrays or
torch tensors, possibly the cached object itself), for exactmd's own computations.

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.5, 0.0], [0.25, 0.25]])
>>> marginal(p, [0]).tolist()
[0.5, 0.5]
>>> conditional(p, 1, {0: 1}).tolist()
[0.5, 0.5]
>>> round(subset_entropy(p, [0]), 6)
0.693147
>>> masked_tensor(p).shape
(3, 3)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

import exactmd.enumeration.masked as _masked
from exactmd._validate import check_flag
from exactmd.backends import Backend, get_backend, is_torch_tensor
from exactmd.enumeration.conditionals import conditional as _conditional
from exactmd.enumeration.plan import MemoryPlan
from exactmd.enumeration.plan import plan_subset_entropies as _plan
from exactmd.errors import ValidationError, describe
from exactmd.law.distribution import Distribution, as_distribution

__all__ = [
    "marginal",
    "conditional",
    "subset_entropy",
    "subset_entropies",
    "masked_tensor",
    "plan_subset_entropies",
]


def _host(d: Distribution, x: Any) -> np.ndarray:
    """A backend-native array as a new host array: float64, or object for a symbolic law."""
    return d.backend.host(x)


def marginal(p: Any, subset: Iterable[int]) -> np.ndarray:
    """The marginal of π on ``subset``, axes kept in increasing index order.

    Parameters
    ----------
    p
        Anything :func:`~exactmd.law.distribution.as_distribution` accepts.
    subset
        Variable indices (ints), each once; the empty subset gives the 0-d array ``1.0``.

    Returns
    -------
    numpy.ndarray
        float64 of shape ``(q_i for i in sorted(subset))`` (object for a symbolic law).

    Examples
    --------
    >>> marginal([[0.5, 0.0], [0.25, 0.25]], [1]).tolist()
    [0.75, 0.25]
    """
    d = as_distribution(p)
    return _host(d, _masked.marginal(d, subset))


def conditional(p: Any, i: int, given: Mapping[int, int] | None = None) -> np.ndarray:
    """π(x_i = · | x_S = given) as a float64 vector of length q_i (object for a symbolic law).

    On a context of probability zero it is uniform
    (:data:`~exactmd.enumeration.ZERO_CONTEXT_POLICY`).

    Examples
    --------
    >>> conditional([[0.5, 0.0], [0.25, 0.25]], 0, {1: 0}).round(6).tolist()
    [0.666667, 0.333333]
    """
    d = as_distribution(p)
    return _host(d, _conditional(d, i, given))


def subset_entropy(p: Any, subset: Iterable[int]) -> Any:
    """H(X_S) in nats as a Python float (an exact expression for a symbolic law).

    Examples
    --------
    >>> subset_entropy([[0.5, 0.0], [0.0, 0.5]], [])
    0.0
    """
    d = as_distribution(p)
    return d.backend.to_float(_masked.subset_entropy(d, subset))


def subset_entropies(p: Any, *, progress: bool | None = None) -> np.ndarray:
    """All 2^N subset entropies (nats), float64 of shape ``(2,)*N``: ``H[b] = H(X_S)`` with
    ``S = {i : b_i = 1}`` (object array of exact expressions for a symbolic law).

    Examples
    --------
    >>> subset_entropies([[0.5, 0.0], [0.0, 0.5]]).round(6).tolist()
    [[0.0, 0.693147], [0.693147, 0.693147]]
    """
    d = as_distribution(p)
    return _host(d, _masked.subset_entropies(d, progress=progress))


def masked_tensor(p: Any) -> np.ndarray:
    """The masked-marginal tensor, float64 of shape ``(q_0+1, …, q_{N-1}+1)``.

    ``M[y]`` is the probability that the unmasked coordinates of ``y`` take their values
    (index ``q_i`` on axis ``i`` means masked). Object array for a symbolic law.

    Examples
    --------
    >>> masked_tensor([0.25, 0.75]).tolist()
    [0.25, 0.75, 1.0]
    """
    d = as_distribution(p)
    return _host(d, _masked.masked_tensor(d))


def _is_shape(value: Any) -> bool:
    if isinstance(value, Distribution | np.ndarray) or is_torch_tensor(value):
        return False
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        return False
    return all(_masked.is_index(q) for q in value)


def plan_subset_entropies(
    p: Any,
    backend: Backend | str | None = None,
    *,
    cached: bool | None = None,
    chunk_cells: int | None = None,
    available: int | None = None,
    strategy: str | None = None,
) -> MemoryPlan:
    """The memory plan of :func:`subset_entropies`, made without allocating anything.

    Parameters
    ----------
    p
        A shape ``(q_0, …, q_{N-1})`` (a flat tuple or list of ints), or a law (anything
        :func:`~exactmd.law.distribution.as_distribution` accepts: an array, a tensor, a
        :class:`~exactmd.law.distribution.Distribution`...). For a shape the table π itself is
        counted in ``bytes_needed`` (it does not exist yet); for a law it is already in memory.
    backend
        A :class:`~exactmd.backends.Backend`, a name (``"numpy"``, ``"torch"``) or None: the
        law's backend, numpy for a shape.
    cached
        Whether the masked tensor is already in memory (default: read from the law's cache;
        False for a shape).
    chunk_cells, available, strategy
        As for :func:`exactmd.enumeration.plan.plan_subset_entropies` (preferred chunk size; a
        byte budget replacing 0.8 × the memory the backend reports available; the chunk
        kernel, ``"inplace"`` or ``"matmul"``, default ``"matmul"`` on torch in float64 only).
        The plan is executed by :func:`exactmd.enumeration.streamed.streamed_subset_entropies`.

    Raises
    ------
    MemoryPlanError
        When nothing fits, naming the bytes needed and available.
    ValidationError
        A bad shape, or a symbolic law (it is not planned: it is small by construction).

    Examples
    --------
    >>> plan = plan_subset_entropies((2,) * 16, "numpy")
    >>> plan.path, plan.lead_axes
    ('streamed', 5)
    >>> plan_subset_entropies(np.full((2, 2), 0.25)).path
    'full'
    """
    if _is_shape(p):
        shape = tuple(int(q) for q in p)
        if not shape or any(q < 1 for q in shape):
            raise ValidationError(
                f"p: a shape must have at least one axis, each of size >= 1; received {describe(p)}"
            )
        be = backend if isinstance(backend, Backend) else get_backend(name=backend or "numpy")
        return _plan(
            shape,
            be,
            cached=False if cached is None else check_flag(cached, "cached"),
            chunk_cells=chunk_cells,
            available=available,
            include_table=True,
            strategy=strategy,
        )
    d = as_distribution(p)
    if backend is not None:
        be = backend if isinstance(backend, Backend) else get_backend(name=backend)
    else:
        be = d.backend
    if not be.inplace:  # the streamed enumeration needs the float in-place kernels
        raise ValidationError(
            "backend: memory plans are made for the numpy and torch backends; received a "
            "symbolic law or backend (symbolic laws are small and not planned)"
        )
    if cached is None:
        cached = be is d.backend and d._derived.masked is not None
    else:
        cached = check_flag(cached, "cached")
    return _plan(
        d.shape,
        be,
        cached=cached,
        chunk_cells=chunk_cells,
        available=available,
        strategy=strategy,
    )
