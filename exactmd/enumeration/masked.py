"""The masked-marginal tensor, subset entropies and marginals (π's conditionals, read off the
same tensor, are in :mod:`exactmd.enumeration.conditionals`).

Append one "masked" value to every axis: the tensor ``M`` of shape ``(q_0+1, …, q_{N-1}+1)``
holds at ``M[y]`` the marginal probability of the unmasked coordinates of ``y`` (index ``q_i``
on axis ``i`` means "masked"). It is the image of π under the Kronecker product of the maps
``A_i = [I_{q_i}; 1ᵀ]``, applied here a block of axes at a time by matrix products.

Every marginal, every exact conditional ``π(x_i = v | y) = M[y, y_i := v] / M[y]`` and every
subset entropy comes from it: applying ``-m log m`` and then ``B_i = [[0…0, 1], [1…1, 0]]`` on
every axis gives the tensor ``H`` of shape ``(2,)*N`` with ``H[b] = H(X_S)`` for
``S = {i : b_i = 1}``.

The same code runs on every backend: on the symbolic one the tensor holds exact expressions
(its all-masked corner written as exactly 1, :meth:`~exactmd.backends.base.Backend.finish_masked`)
and the subset entropies are exact.

Examples
--------
>>> import numpy as np
>>> from exactmd.law.distribution import as_distribution
>>> d = as_distribution(np.array([[0.5, 0.0], [0.0, 0.5]]))
>>> masked_tensor(d).tolist()
[[0.5, 0.0, 0.5], [0.0, 0.5, 0.5], [0.5, 0.5, 1.0]]
>>> H = subset_entropies(d)
>>> round(float(H[1, 1]), 6), round(float(H[1, 0]), 6), float(H[0, 0])
(0.693147, 0.693147, 0.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from exactmd.backends._memory import memory_budget, require_fits
from exactmd.enumeration.plan import MemoryPlan, overlap_scratch, plan_subset_entropies
from exactmd.enumeration.streamed import build_masked, entropy_axes_, streamed_subset_entropies
from exactmd.errors import ValidationError, describe
from exactmd.law.distribution import Distribution

__all__ = [
    "plan_masked",
    "masked_build_bytes",
    "masked_tensor",
    "subset_entropies",
    "subset_index",
    "check_indices",
    "is_index",
    "marginal",
    "subset_entropy",
]


def masked_build_bytes(dist: Distribution, copies: float | None = None) -> int:
    """Peak bytes of building the masked tensor of ``dist`` (see :func:`plan_masked`);
    allocates and raises nothing.

    Examples
    --------
    >>> from exactmd.law.distribution import as_distribution
    >>> masked_build_bytes(as_distribution(np.full((2, 3), 1 / 6)))  # 12 cells + 6 copied
    144
    """
    cells = int(np.prod([q + 1 for q in dist.shape], dtype=np.float64))
    item = dist.backend.itemsize
    if copies is not None:
        return int(cells * item * copies)
    if not dist.backend.inplace:
        return 2 * cells * item
    scratch = overlap_scratch(dist.shape) if dist.backend.copies_overlap else 0
    return (cells + scratch) * item


def plan_masked(dist: Distribution, copies: float | None = None) -> MemoryPlan:
    """Plan the full masked-tensor path, raising before allocation when it cannot fit.

    Parameters
    ----------
    dist
        The law.
    copies
        Peak number of masked-size arrays alive at once. Default: 1 on the numpy and torch
        backends (:func:`~exactmd.enumeration.streamed.build_masked` fills one buffer in place;
        numpy's
        copies of overlapping operands, :func:`~exactmd.enumeration.plan.overlap_scratch`, are
        added), 2 elsewhere (the generic kernels' temporaries, on the symbolic backend).

    Raises
    ------
    MemoryPlanError
        When the bytes needed exceed ``MEMORY_SAFETY_FRACTION`` (0.8) of the bytes available;
        the message gives both.
    """
    needed = masked_build_bytes(dist, copies)
    budget = memory_budget(dist.backend)
    shape = tuple(q + 1 for q in dist.shape)
    require_fits(
        needed, dist.backend, f"p: the masked-marginal tensor of shape {shape}", available=budget
    )
    return MemoryPlan("full", needed, budget.bytes, 1)


def masked_tensor(dist: Distribution) -> Any:
    """The masked-marginal tensor of shape ``(q_0+1, …, q_{N-1}+1)`` (cached on ``dist``).

    ``M[y]`` is the probability that the unmasked coordinates of ``y`` take their values;
    index ``q_i`` on axis ``i`` means masked, so ``M[q_0, …, q_{N-1}] = 1`` (written as exactly
    1 on the symbolic backend). It is built in place in one buffer
    (:func:`~exactmd.enumeration.streamed.build_masked`); :func:`plan_masked` runs first and
    raises before allocating when it does not fit.
    """
    derived = dist._derived
    if derived.masked is None:
        plan_masked(dist)
        m = build_masked(dist.table, dist.shape, dist.backend)
        derived.masked = dist.backend.finish_masked(m)
    return derived.masked


def subset_entropies(dist: Distribution, *, progress: bool | None = None) -> np.ndarray:
    """Entropies (nats) of all 2^N marginals, as a float64 array of shape ``(2,)*N``.

    ``H[b] = H(X_S)`` with ``S = {i : b_i = 1}``; ``H[0, …, 0] = 0``. Cached on ``dist``.
    For a symbolic law it is an object array of exact sympy expressions: a backend without the
    float in-place kernels (``inplace`` False) applies ``-m log m`` and the entropy reduction
    to the whole masked tensor (:func:`masked_tensor`), never rounded.

    On the numpy and torch backends a :class:`MemoryPlan` from :func:`plan_subset_entropies`
    is made first (it raises :class:`~exactmd.errors.MemoryPlanError` before allocating when
    nothing fits), and the work is streamed over leading axes
    (:mod:`exactmd.enumeration.streamed`): the whole masked tensor is never held unless it was
    already
    cached. The plan used is kept: ``dist.subset_entropies_plan``.

    Parameters
    ----------
    dist
        The law.
    progress
        Progress bar: True/False, or None (default) for long runs only.
    """
    derived = dist._derived
    if derived.subset_entropies is None and not dist.backend.inplace:
        derived.subset_entropies = _whole_tensor_entropies(dist)
    if derived.subset_entropies is None:
        be = dist.backend  # numpy or torch: both have the in-place kernels streaming needs
        cached = derived.masked
        plan = plan_subset_entropies(dist.shape, be, cached=cached is not None)
        derived.subset_entropies_plan = plan
        h = streamed_subset_entropies(
            dist.table, dist.shape, be, plan, masked=cached, progress=progress
        )
        h[(0,) * dist.n] = 0.0  # H(∅) = 0 exactly; rounding of the total leaves ~1e-16
        derived.subset_entropies = h
    return derived.subset_entropies  # type: ignore[no-any-return]


def _whole_tensor_entropies(dist: Distribution) -> Any:
    """All subset entropies from the whole masked tensor, with the backend's own arithmetic
    (``-m log m``, then the entropy reduction of every axis in place): the generic path of
    :func:`subset_entropies` (exact on the symbolic backend)."""
    be, shape = dist.backend, dist.shape
    y = be.reshape(masked_tensor(dist) * 1, (1, *(q + 1 for q in shape)))  # a copy
    be.neg_xlogx_(y)
    entropy_axes_(be, y, shape)
    # slot q_i - 1 holds the sum over the values (b_i = 1) and slot q_i the masked one (b_i = 0)
    index = (0, *(slice(q - 1, q + 1) for q in shape))
    reduced = y[index]
    return be.reshape(be.flip(reduced, list(range(len(shape)))), (2,) * len(shape))


def is_index(value: object) -> bool:
    """True for a Python or numpy integer that is not a bool (a valid variable index type).

    Examples
    --------
    >>> is_index(2), is_index(np.int64(2)), is_index(2.0), is_index(True)
    (True, True, False, False)
    """
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def check_indices(subset: Any, n: int, name: str) -> tuple[int, ...]:
    """Validate a collection of variable indices and return them as a tuple of ints.

    Every index must be a Python ``int`` or a numpy integer (not a bool, not a float, even an
    integral one), lie in ``range(n)`` and appear once. A string, a bare number or any other
    non-collection is refused: there is no truncation and no guessing.

    Raises
    ------
    ValidationError
        Naming ``name``, the rule and the value received.

    Examples
    --------
    >>> check_indices([2, np.int64(0)], 3, "subset")
    (2, 0)
    >>> try:
    ...     check_indices([0.9], 3, "subset")
    ... except ValueError as exc:
    ...     print(exc)
    subset: indices must be ints or numpy integers (not floats or bools); received [0.9]
    """
    if isinstance(subset, str | bytes) or not isinstance(subset, Iterable):
        raise ValidationError(
            f"{name}: must be a collection of variable indices (e.g. a list of ints); "
            f"received {describe(subset)}"
        )
    raw = list(subset)
    if not all(is_index(i) for i in raw):
        raise ValidationError(
            f"{name}: indices must be ints or numpy integers (not floats or bools); "
            f"received {describe(subset)}"
        )
    items = tuple(int(i) for i in raw)
    bad = [i for i in items if not 0 <= i < n]
    if bad:
        raise ValidationError(
            f"{name}: indices must lie in range(N) with N={n}; received {describe(subset)}"
        )
    if len(set(items)) != len(items):
        raise ValidationError(f"{name}: indices must not repeat; received {describe(subset)}")
    return items


def subset_index(subset: Iterable[int], n: int) -> tuple[int, ...]:
    """The index of ``subset`` into :func:`subset_entropies`: ``b_i = 1`` iff ``i`` in it.

    Examples
    --------
    >>> subset_index({0, 2}, 3)
    (1, 0, 1)
    """
    items = set(check_indices(subset, n, "subset"))
    return tuple(1 if i in items else 0 for i in range(n))


def marginal(dist: Distribution, subset: Iterable[int]) -> Any:
    """The marginal of π on ``subset`` (axes kept in increasing order), a native array."""
    items = check_indices(subset, dist.n, "subset")
    keep = set(items)
    drop = tuple(i for i in range(dist.n) if i not in keep)
    if not drop:
        return dist.table
    return dist.backend.sum(dist.table, axis=drop)


def subset_entropy(dist: Distribution, subset: Iterable[int]) -> Any:
    """H(X_S) in nats, by summing out the other axes (no masked tensor needed)."""
    items = check_indices(subset, dist.n, "subset")
    if not items:
        return dist.backend.sum(dist.backend.zeros((1,)))
    be = dist.backend
    m = marginal(dist, items) * 1.0
    return be.sum(be.neg_xlogx_(m))
