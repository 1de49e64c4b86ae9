"""Information measures in nats: H, TC, DTC, D(π), the information profile f, KL.

Conventions (docs/design.md, "Information measures"): natural logs; ``TC = Σ_i H(X_i) − H``; ``DTC
= H − Σ_i H(X_i | X_{−i})``;
``D(π) = (TC + DTC) / N``; ``f(i) = h̄(i) − h̄(i+1)`` with ``h̄(k)`` the mean entropy of the
k-variable marginals.

**Signs and rounding.** TC, DTC, D(π), conditional entropies, mutual informations and KL are
``>= 0`` by theory (so are E_fact and E_learn, :mod:`exactmd.schedules.factorization` and
:mod:`exactmd.sampler.learning`). Every table is normalised when it is validated
(:func:`~exactmd.law.distribution.as_distribution`), so only floating-point rounding is left: of
order ``1e-16 · H`` in float64 (``1e-7 · H`` in float32). A numeric result that rounding
leaves below 0 is returned as ``0.0`` (:func:`nonnegative`); exact (symbolic) results are
returned as they are. f and H are not clamped: f is ``<= 0`` and H ``>= 0`` by construction.

Examples
--------
XOR of two fair bits (docs/design.md, "Known answers"):

>>> import math
>>> import numpy as np
>>> p = np.zeros((2, 2, 2))
>>> for a in (0, 1):
...     for b in (0, 1):
...         p[a, b, a ^ b] = 0.25
>>> tc, dtc = total_correlation(p), dual_total_correlation(p)
>>> round(tc / math.log(2), 12), round(dtc / math.log(2), 12)
(1.0, 2.0)
>>> np.round(information_profile(p) / np.log(2), 12).tolist()
[-1.0, -1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterable
from math import comb
from typing import Any

import numpy as np

from exactmd.enumeration.masked import check_indices, subset_entropies, subset_entropy
from exactmd.errors import DistributionError, ValidationError
from exactmd.law.distribution import Distribution, as_distribution

__all__ = [
    "entropy",
    "total_correlation",
    "dual_total_correlation",
    "complexity",
    "information_profile",
    "mean_subset_entropies",
    "conditional_entropy",
    "mutual_information",
    "kl",
    "sums_by_popcount",
    "nonnegative",
]


def nonnegative(value: Any) -> Any:
    """A quantity that is ``>= 0`` by theory: a float rounded below 0 becomes ``0.0``.

    Exact (non-float) values, e.g. sympy expressions, are returned as they are.

    Examples
    --------
    >>> nonnegative(-3e-17), nonnegative(0.25)
    (0.0, 0.25)
    """
    return max(value, 0.0) if isinstance(value, float) else value


def _scalar(dist: Distribution, value: Any) -> Any:
    """A backend scalar as a Python float (or an exact expression for symbolic laws)."""
    return dist.backend.to_float(value)


def entropy(p: Any) -> Any:
    """Joint entropy H(X) = −Σ_x π(x) log π(x), in nats.

    Examples
    --------
    >>> round(entropy([0.25, 0.25, 0.5]), 6)
    1.039721
    """
    d = as_distribution(p)
    cached = d._derived.singletons_and_cofaces
    return _scalar(d, cached[0] if cached is not None else subset_entropy(d, range(d.n)))


def _singletons_and_cofaces(d: Distribution) -> tuple[Any, Any, Any]:
    """``(H(X), Σ_i H(X_i), Σ_i H(X_{−i}))`` as backend scalars, cached on ``d``."""
    if d._derived.singletons_and_cofaces is None:
        h_all = subset_entropy(d, range(d.n))
        singles = [subset_entropy(d, [i]) for i in range(d.n)]
        cofaces = [subset_entropy(d, [j for j in range(d.n) if j != i]) for i in range(d.n)]
        zero = h_all * 0
        s_sum = sum(singles, zero)
        c_sum = sum(cofaces, zero)
        d._derived.singletons_and_cofaces = (h_all, s_sum, c_sum)
    return d._derived.singletons_and_cofaces  # type: ignore[no-any-return]


def total_correlation(p: Any) -> Any:
    """Total correlation TC = Σ_i H(X_i) − H(X) ≥ 0, in nats.

    Examples
    --------
    >>> total_correlation([[0.5, 0.0], [0.0, 0.5]]) == entropy([0.5, 0.5])
    True
    """
    d = as_distribution(p)
    h_all, s_sum, _ = _singletons_and_cofaces(d)
    return nonnegative(_scalar(d, s_sum - h_all))


def dual_total_correlation(p: Any) -> Any:
    """Dual total correlation DTC = H(X) − Σ_i H(X_i | X_{−i}) ≥ 0, in nats.

    Uses ``H(X_i | X_{−i}) = H(X) − H(X_{−i})``, so ``DTC = Σ_i H(X_{−i}) − (N − 1) H(X)``.

    Examples
    --------
    >>> round(dual_total_correlation([[0.5, 0.0], [0.0, 0.5]]), 6)
    0.693147
    """
    d = as_distribution(p)
    h_all, _, c_sum = _singletons_and_cofaces(d)
    return nonnegative(_scalar(d, c_sum - (d.n - 1) * h_all))


def complexity(p: Any) -> Any:
    """D(π) = (TC + DTC) / N = (1/N) Σ_i I(X_i ; X_{−i}), in nats; 0 ≤ D ≤ log max q_i.

    Examples
    --------
    >>> round(complexity([[0.5, 0.0], [0.0, 0.5]]), 6)
    0.693147
    """
    d = as_distribution(p)
    h_all, s_sum, c_sum = _singletons_and_cofaces(d)
    return nonnegative(_scalar(d, (s_sum + c_sum - d.n * h_all) / d.n))


def mean_subset_entropies(p: Any) -> np.ndarray:
    """h̄(k) for k = 0..N: the mean of H(X_S) over the C(N, k) subsets of size k.

    Examples
    --------
    >>> mean_subset_entropies([[0.5, 0.0], [0.0, 0.5]]).round(6).tolist()
    [0.0, 0.693147, 0.693147]

    A float64 array; for a symbolic law a list of exact expressions.
    """
    d = as_distribution(p)
    totals = sums_by_popcount(subset_entropies(d).reshape(-1), d.n)
    return d.backend.vector([totals[k] / comb(d.n, k) for k in range(d.n + 1)])  # type: ignore[no-any-return]


def _popcounts(bits: int) -> np.ndarray:
    """``popcount(j)`` for ``j < 2**bits`` as uint8 (doubling: the top bit adds 1)."""
    counts = np.zeros(1, dtype=np.uint8)
    for _ in range(bits):
        counts = np.concatenate([counts, counts + np.uint8(1)])
    return counts


def sums_by_popcount(values: np.ndarray, n: int, low_bits: int = 10) -> np.ndarray:
    """``out[k] = Σ_{j : popcount(j) = k} values[j]`` for a float vector of length ``2**n``
    (an object vector of exact values is summed exactly, by a loop).

    The flat index ``j = r·2^m + l`` (``m = min(n, low_bits)``) has ``popcount(j) =
    popcount(r) + popcount(l)``: one matrix product with the one-hot table of ``popcount(l)``
    (``2^m × (m+1)``) sums the low bits, and a bincount over ``popcount(r) + (0..m)`` the
    rest. Besides ``values``, the memory is ``O(2^n / 2^m · m)`` floats and ``2^(n-m) + 2^m``
    uint8 (no ``(2,)*n`` index grids).

    Examples
    --------
    >>> sums_by_popcount(np.arange(8.0), 3).tolist()  # {0}, {1,2,4}, {3,5,6}, {7}
    [0.0, 7.0, 14.0, 7.0]
    """
    if np.asarray(values).dtype == object:  # exact values (a symbolic law): summed exactly
        flat = np.asarray(values).reshape(-1).tolist()
        out = np.zeros(n + 1, dtype=object)
        for j, v in enumerate(flat):
            out[j.bit_count()] = out[j.bit_count()] + v
        return out
    m = min(n, low_bits)
    onehot = (_popcounts(m)[:, None] == np.arange(m + 1, dtype=np.uint8)).astype(np.float64)
    partial = np.asarray(values, dtype=np.float64).reshape(-1, 2**m) @ onehot
    index = _popcounts(n - m)[:, None].astype(np.intp) + np.arange(m + 1)
    return np.bincount(index.reshape(-1), weights=partial.reshape(-1), minlength=n + 1)


def information_profile(p: Any) -> np.ndarray:
    """The information profile f(i) = E[log π(x_{σ(i+1)} | x_{σ(1..i)})], i = 0..N−1.

    Computed as ``f(i) = h̄(i) − h̄(i+1)`` from all 2^N subset entropies. f is non-decreasing,
    ``f(N−1) − f(0) = D(π)`` and ``Σ_i f(i) = −H``.

    Returns
    -------
    numpy.ndarray
        float64 array of length N (for a symbolic law: a list of exact expressions).

    Examples
    --------
    >>> information_profile([[0.5, 0.0], [0.0, 0.5]]).round(6).tolist()
    [-0.693147, 0.0]
    """
    d = as_distribution(p)
    hbar = mean_subset_entropies(d)
    return d.backend.vector([hbar[i] - hbar[i + 1] for i in range(d.n)])  # type: ignore[no-any-return]


def conditional_entropy(p: Any, target: Iterable[int], given: Iterable[int] = ()) -> Any:
    """H(X_A | X_B) = H(X_{A∪B}) − H(X_B), in nats.

    ``target`` (A) and ``given`` (B) are collections of variable indices: Python or numpy
    integers in ``range(N)``, each once (a bare int, a string, a float or a bool is refused with
    a :class:`~exactmd.errors.ValidationError`). A and B may overlap.

    Examples
    --------
    >>> conditional_entropy([[0.5, 0.0], [0.0, 0.5]], [1], [0])
    0.0
    """
    d = as_distribution(p)
    a = set(check_indices(target, d.n, "target"))
    b = set(check_indices(given, d.n, "given"))
    return nonnegative(_scalar(d, subset_entropy(d, sorted(a | b)) - subset_entropy(d, sorted(b))))


def mutual_information(
    p: Any, a: Iterable[int], b: Iterable[int], given: Iterable[int] = ()
) -> Any:
    """I(X_A ; X_B | X_C) = H(AC) + H(BC) − H(ABC) − H(C), in nats.

    ``a``, ``b`` and ``given`` are disjoint collections of variable indices (Python or numpy
    integers in ``range(N)``, each once; anything else raises
    :class:`~exactmd.errors.ValidationError`).

    Examples
    --------
    >>> round(mutual_information([[0.5, 0.0], [0.0, 0.5]], [0], [1]), 6)
    0.693147
    """
    d = as_distribution(p)
    sa = set(check_indices(a, d.n, "a"))
    sb = set(check_indices(b, d.n, "b"))
    sc = set(check_indices(given, d.n, "given"))
    if sa & sb or sa & sc or sb & sc:
        raise ValidationError(
            f"a, b, given: must be disjoint sets of indices; received {sorted(sa)}, "
            f"{sorted(sb)}, {sorted(sc)}"
        )
    h = lambda s: subset_entropy(d, sorted(s))  # noqa: E731
    return nonnegative(_scalar(d, h(sa | sc) + h(sb | sc) - h(sa | sb | sc) - h(sc)))


def kl(p: Any, r: Any) -> Any:
    """KL(p ‖ r) = Σ p log(p / r) in nats; ``inf`` when r is 0 where p is not.

    When either law is symbolic, both are read exactly (a float table as the decimals it
    prints as) and the result is an exact expression (``sympy.oo`` for a missed support).

    Examples
    --------
    >>> kl([0.5, 0.5], [0.5, 0.5])
    0.0
    >>> kl([0.5, 0.5], [1.0, 0.0])
    inf
    """
    dp = as_distribution(p, name="p")
    dr = as_distribution(r, name="r")
    if dp.shape != dr.shape:
        raise DistributionError(
            f"r: must have the shape of p {dp.shape}; received shape {dr.shape}"
        )
    if dr.backend.exact and not dp.backend.exact:  # beside an exact law, read p exactly
        dp = dp.with_backend(dr.backend)
    be = dp.backend
    if be.exact and not dr.backend.exact:
        dr = dr.with_backend(be)
    a = be.host(dp.table).reshape(-1)  # float64 (exact values for a symbolic law)
    b = dr.backend.host(dr.table).reshape(-1)
    support = be.positive(a)
    if not np.all(be.positive(b[support])):
        return be.infinity
    value = np.sum(a[support] * (be.log(a[support]) - be.log(b[support])))
    return nonnegative(_scalar(dp, value))  # KL >= 0; only rounding can make it negative
