"""The masked-marginal tensor, subset entropies, marginals and conditionals (the batched exact
denoiser lives in :mod:`exactmd.enumeration.conditionals` and is re-exported here).

Append one "masked" value to every axis: the tensor ``M`` of shape ``(q_0+1, …, q_{N-1}+1)``
holds at ``M[y]`` the marginal probability of the unmasked coordinates of ``y`` (index ``q_i``
on axis ``i`` means "masked"). It is the image of π under the Kronecker product of the maps
``A_i = [I_{q_i}; 1ᵀ]``, applied here a block of axes at a time by matrix products.

Every marginal, every exact conditional ``π(x_i = v | y) = M[y, y_i := v] / M[y]`` and every
subset entropy comes from it: applying ``-m log m`` and then ``B_i = [[0…0, 1], [1…1, 0]]`` on
every axis gives the tensor ``H`` of shape ``(2,)*N`` with ``H[b] = H(X_S)`` for
``S = {i : b_i = 1}``.

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

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from exactmd.backends import Backend
from exactmd.backends.base import MEMORY_SAFETY_FRACTION
from exactmd.enumeration._kernels import block_sizes
from exactmd.enumeration.conditionals import exact_conditionals
from exactmd.enumeration.plan import MemoryPlan, overlap_scratch, plan_subset_entropies
from exactmd.enumeration.streamed import build_masked, streamed_subset_entropies
from exactmd.errors import MemoryPlanError, ValidationError, describe
from exactmd.law.distribution import Distribution

__all__ = [
    "plan_masked",
    "masked_build_bytes",
    "kron_apply",
    "masked_tensor",
    "subset_entropies",
    "subset_index",
    "check_indices",
    "is_index",
    "marginal",
    "subset_entropy",
    "conditional",
]

# exact_conditionals, check_tokens and ZERO_CONTEXT_POLICY live in exactmd.enumeration.conditionals
# and are
# exported here as well (their historical home).

_BLOCK_ELEMENTS = 16  # input elements per Kronecker block (e.g. 4 binary axes)


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
        added), 2 elsewhere (:func:`kron_apply`: a block result and its transposed copy).

    Raises
    ------
    MemoryPlanError
        When the bytes needed exceed ``MEMORY_SAFETY_FRACTION`` (0.8) of the bytes available;
        the message gives both.
    """
    needed = masked_build_bytes(dist, copies)
    reported = int(dist.backend.available_memory())
    available = int(MEMORY_SAFETY_FRACTION * reported)
    if needed > available:
        raise MemoryPlanError(
            f"p: the masked-marginal tensor of shape {tuple(q + 1 for q in dist.shape)} needs "
            f"{needed / 2**30:.2f} GiB ({needed} bytes) but only {available / 2**30:.2f} GiB "
            f"({available} bytes) may be used: {MEMORY_SAFETY_FRACTION:.0%} of the {reported} "
            f"bytes available on {dist.backend!r}"
        )
    return MemoryPlan("full", needed, available, 1)


def _blocks(shape: Sequence[int]) -> list[tuple[int, int]]:
    """Split axes into consecutive blocks of about ``_BLOCK_ELEMENTS`` input elements."""
    bounds = np.cumsum([0, *block_sizes(shape, first_small=False, limit=_BLOCK_ELEMENTS)])
    return [(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]


def kron_apply(x: Any, shape: Sequence[int], mats: Sequence[np.ndarray], backend: Backend) -> Any:
    """Apply ``mats[i]`` along axis ``i`` of ``x`` for every axis, a block at a time.

    Each block of axes is one matrix product with the Kronecker product of its matrices
    followed by a transpose that rotates the processed axes to the back, so after the last
    block the axes are in their original order.

    Parameters
    ----------
    x
        Native array with ``prod(shape)`` elements.
    shape
        Logical shape of ``x``.
    mats
        One numpy matrix per axis, ``mats[i].shape == (out_i, shape[i])``.
    backend
        The backend of ``x``.

    Returns
    -------
    Native array of shape ``(out_0, …, out_{N-1})``.
    """
    out_shape = [int(m.shape[0]) for m in mats]
    cur = x
    for lo, hi in _blocks(shape):
        kron = np.ones((1, 1))
        for m in mats[lo:hi]:
            kron = np.kron(kron, m)
        k = backend.asarray(kron)
        block = backend.matmul(k, backend.reshape(cur, (kron.shape[1], -1)))
        cur = backend.transpose(block, (1, 0))
    return backend.reshape(cur, out_shape)


def _mask_matrix(q: int) -> np.ndarray:
    return np.vstack([np.eye(q), np.ones((1, q))])


def masked_tensor(dist: Distribution) -> Any:
    """The masked-marginal tensor of shape ``(q_0+1, …, q_{N-1}+1)`` (cached on ``dist``).

    ``M[y]`` is the probability that the unmasked coordinates of ``y`` take their values;
    index ``q_i`` on axis ``i`` means masked, so ``M[q_0, …, q_{N-1}] = 1``. The numpy and
    torch backends build it in place in one buffer; others by Kronecker blocks
    (:func:`kron_apply`). :func:`plan_masked` runs first and raises before allocating when it
    does not fit.
    """
    if "masked" not in dist.cache:
        plan_masked(dist)
        if dist.backend.inplace:
            m = build_masked(dist.table, dist.shape, dist.backend)
        else:
            mats = [_mask_matrix(q) for q in dist.shape]
            m = kron_apply(dist.table, dist.shape, mats, dist.backend)
        dist.cache["masked"] = m
    return dist.cache["masked"]


def subset_entropies(dist: Distribution, *, progress: bool | None = None) -> np.ndarray:
    """Entropies (nats) of all 2^N marginals, as a float64 array of shape ``(2,)*N``.

    ``H[b] = H(X_S)`` with ``S = {i : b_i = 1}``; ``H[0, …, 0] = 0``. Cached on ``dist``.
    For a symbolic law (backend ``"symbolic"``) it is an object array of exact sympy
    expressions, from :func:`exactmd.symbolic.exact_subset_entropies`.

    On the numpy and torch backends a :class:`MemoryPlan` from :func:`plan_subset_entropies`
    is made first (it raises :class:`~exactmd.errors.MemoryPlanError` before allocating when
    nothing fits), and the work is streamed over leading axes
    (:mod:`exactmd.enumeration.streamed`): the whole masked tensor is never held unless it was
    already
    cached. The plan used is stored in ``dist.cache["subset_entropies_plan"]``.

    Parameters
    ----------
    dist
        The law.
    progress
        Progress bar: True/False, or None (default) for long runs only.
    """
    if dist.backend.name == "symbolic":  # exact expressions, never rounded
        from exactmd.symbolic.measures import exact_subset_entropies

        return exact_subset_entropies(dist)
    if "subset_entropies" not in dist.cache:
        be = dist.backend  # numpy or torch: both have the in-place kernels streaming needs
        cached = dist.cache.get("masked")
        plan = plan_subset_entropies(dist.shape, be, cached=cached is not None)
        dist.cache["subset_entropies_plan"] = plan
        h = streamed_subset_entropies(
            dist.table, dist.shape, be, plan, masked=cached, progress=progress
        )
        h[(0,) * dist.n] = 0.0  # H(∅) = 0 exactly; rounding of the total leaves ~1e-16
        dist.cache["subset_entropies"] = h
    return dist.cache["subset_entropies"]  # type: ignore[no-any-return]


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


def conditional(dist: Distribution, i: int, given: Mapping[int, int] | None = None) -> np.ndarray:
    """π(x_i = · | x_S = given) as a float64 vector of length q_i.

    On a context of probability zero it follows :data:`ZERO_CONTEXT_POLICY` (uniform). For a
    symbolic law it is an object vector of exact sympy expressions (see
    :func:`exact_conditionals`).

    Examples
    --------
    >>> from exactmd.law.distribution import as_distribution
    >>> d = as_distribution([[0.5, 0.0], [0.25, 0.25]])
    >>> conditional(d, 1, {0: 1}).tolist()
    [0.5, 0.5]
    """
    if not is_index(i):
        raise ValidationError(
            f"i: must be an int or a numpy integer (not a float or bool); received {describe(i)}"
        )
    if given is not None and not isinstance(given, Mapping):
        raise ValidationError(
            f"given: must be a mapping {{variable index: value}}; received {describe(given)}"
        )
    given = dict(given or {})
    check_indices([i, *given], dist.n, "i and given")
    i = int(i)
    tokens = np.full((1, dist.n), dist.q, dtype=np.int64)
    for j, v in given.items():
        if not (is_index(v) and 0 <= v < dist.shape[j]):
            raise ValidationError(
                f"given: the value of variable {j} must be an int (or numpy integer, not a "
                f"float or bool) in range({dist.shape[j]}); received {describe(v)}"
            )
        tokens[0, j] = v
    probs = exact_conditionals(dist, tokens)
    row = dist.backend.to_numpy(probs[0, i, : dist.shape[i]])
    if dist.backend.name == "symbolic":
        return np.array(row, dtype=object)
    return np.asarray(row, dtype=np.float64)
