"""Exact information measures and E_fact of symbolic laws.

The subset entropies come from the numeric code path run on the symbolic backend: the
masked-marginal tensor of :func:`exactmd.enumeration.masked.masked_tensor` (numpy ``matmul`` on
object
arrays), ``-m log m`` on every cell and the same Kronecker reduction
(:func:`exactmd.enumeration.masked.kron_apply`). Everything else is the formulas of docs/design.md
("Mathematics")
applied to that
``(2,)*N`` object array.

Examples
--------
>>> import sympy
>>> from exactmd.symbolic.law import as_symbolic_distribution
>>> half = sympy.Rational(1, 2)
>>> d = as_symbolic_distribution(sympy.Array([[half, 0], [0, half]]))
>>> symbolic_information_profile(d)
[-log(2), 0]
>>> symbolic_factorization_error(d, [2])
log(2)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from math import comb
from typing import Any

import numpy as np

from exactmd.backends._symbolic import split_integer_logs, tidy, to_exact
from exactmd.enumeration.masked import kron_apply, masked_tensor
from exactmd.errors import ScheduleError, ValidationError
from exactmd.law.distribution import Distribution
from exactmd.schedules.kinds import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    as_schedule,
)
from exactmd.symbolic.law import SymbolicDistribution, as_symbolic_distribution

__all__ = [
    "symbolic_law",
    "exact_masked_tensor",
    "exact_subset_entropies",
    "symbolic_mean_subset_entropies",
    "symbolic_information_profile",
    "symbolic_factorization_error",
    "symbolic_kl",
    "ordered_partitions",
    "reveal_step_law",
    "simplify_exact",
    "is_symbolic_input",
    "float_profile",
]


def symbolic_law(p: Any, name: str = "p") -> SymbolicDistribution:
    """Return ``p`` as a symbolic law (a numeric law is read exactly, floats as decimals)."""
    if isinstance(p, SymbolicDistribution):
        return p
    if isinstance(p, Distribution):
        return as_symbolic_distribution(
            np.asarray(p.backend.to_numpy(p.table)).astype(object),
            name=name,
            names=p.names,
            state_names=p.state_names,
        )
    return as_symbolic_distribution(p, name=name)


def exact_masked_tensor(d: Distribution) -> np.ndarray:
    """The masked-marginal tensor as an object array, its all-masked corner set to exactly 1.

    The corner holds the total of the table, which validation proved to be 1 but which sympy
    may not have written as ``1`` (e.g. for :func:`~exactmd.symbolic.families.ising_pair`).
    """
    key = "symbolic_masked"
    if key not in d.cache:
        import sympy as sp

        m = np.array(np.asarray(masked_tensor(d)), dtype=object)
        m[tuple(q for q in d.shape)] = sp.Integer(1)
        d.cache[key] = m
    return d.cache[key]  # type: ignore[no-any-return]


def _entropy_matrix(q: int) -> np.ndarray:
    b = np.zeros((2, q + 1), dtype=np.int64)
    b[0, q] = 1
    b[1, :q] = 1
    return b


def exact_subset_entropies(p: Any) -> np.ndarray:
    """H(X_S) for all 2^N subsets as an object array of shape ``(2,)*N`` (``H[0…0] = 0``).

    Examples
    --------
    >>> import sympy
    >>> half = sympy.Rational(1, 2)
    >>> h = exact_subset_entropies(sympy.Array([[half, 0], [0, half]]))
    >>> h[1, 0], h[1, 1], h[0, 0]
    (log(2), log(2), 0)
    """
    d = symbolic_law(p)
    key = "symbolic_subset_entropies"
    if key not in d.cache:
        be = d.backend
        work = be.asarray(exact_masked_tensor(d).reshape(-1))
        be.neg_xlogx_(work)
        mats = [_entropy_matrix(q) for q in d.shape]
        h = np.array(np.asarray(kron_apply(work, [q + 1 for q in d.shape], mats, be)), dtype=object)
        d.cache[key] = h
    return d.cache[key]  # type: ignore[no-any-return]


def symbolic_mean_subset_entropies(p: Any) -> list[Any]:
    """h̄(k), k = 0..N: the mean of H(X_S) over the subsets of size k, as exact expressions."""
    import sympy as sp

    d = symbolic_law(p)
    h = exact_subset_entropies(d)
    totals: list[Any] = [sp.Integer(0)] * (d.n + 1)
    for b in itertools.product((0, 1), repeat=d.n):
        totals[sum(b)] += h[b]
    return [tidy(totals[k] / comb(d.n, k)) for k in range(d.n + 1)]


def symbolic_information_profile(p: Any) -> list[Any]:
    """The information profile ``f(i) = h̄(i) − h̄(i+1)``, i = 0..N−1, as exact expressions.

    Cached in the law's ``cache`` (as :func:`exact_subset_entropies` is); each call returns a
    new list.
    """
    d = symbolic_law(p)
    key = "symbolic_information_profile"
    if key not in d.cache:
        hbar = symbolic_mean_subset_entropies(d)
        d.cache[key] = tuple(tidy(hbar[i] - hbar[i + 1]) for i in range(len(hbar) - 1))
    return list(d.cache[key])


def _h(h: np.ndarray, subset: Sequence[int], n: int) -> Any:
    s = set(subset)
    return h[tuple(1 if i in s else 0 for i in range(n))]


def _deterministic(h: np.ndarray, partition: Sequence[Sequence[int]], n: int) -> Any:
    import sympy as sp

    total: Any = sp.Integer(0)
    context: list[int] = []
    for block in partition:
        h_ctx = _h(h, context, n)
        singles = sp.Add(*(_h(h, [*context, i], n) - h_ctx for i in block))
        total += singles - (_h(h, [*context, *block], n) - h_ctx)
        context.extend(block)
    return total


def _exchangeable(profile: Sequence[Any], sizes: Sequence[int]) -> Any:
    import sympy as sp

    a = 0
    total: Any = sp.Add(*profile)
    for s in sizes:
        total -= s * profile[a]
        a += s
    return total


def ordered_partitions(n: int, sizes: Sequence[int]) -> Iterator[tuple[tuple[int, ...], ...]]:
    """All ordered partitions ``(z_1, …, z_K)`` of ``range(n)`` with ``|z_k| = sizes[k]``.

    Examples
    --------
    >>> list(ordered_partitions(3, [2, 1]))
    [((0, 1), (2,)), ((0, 2), (1,)), ((1, 2), (0,))]
    """

    def rec(rest: tuple[int, ...], k: int) -> Iterator[tuple[tuple[int, ...], ...]]:
        if k == len(sizes):
            if not rest:
                yield ()
            return
        for block in itertools.combinations(rest, sizes[k]):
            left = tuple(i for i in rest if i not in block)
            for tail in rec(left, k + 1):
                yield (block, *tail)

    yield from rec(tuple(range(n)), 0)


def reveal_step_law(sched: RandomRevealSchedule) -> list[Any]:
    """P[a position is revealed at step k] = t_{k−1} − t_k, k = 1..K, as exact rationals.

    The grid floats are read as the decimals they print as (see
    :func:`~exactmd.backends._symbolic.to_exact`).
    """
    grid = [to_exact(t) for t in sched.grid]
    return [grid[k - 1] - grid[k] for k in range(1, len(grid))]


def _random_reveal_partitions(
    sched: RandomRevealSchedule, n: int
) -> dict[tuple[tuple[int, ...], ...], Any]:
    """Ordered partitions and their probabilities: positions pick their reveal step i.i.d."""
    import sympy as sp

    steps = reveal_step_law(sched)
    law: dict[tuple[tuple[int, ...], ...], Any] = {}
    for assign in itertools.product(range(len(steps)), repeat=n):
        weight = sp.Mul(*(steps[k] for k in assign))
        if weight == 0:
            continue
        blocks = [tuple(i for i in range(n) if assign[i] == k) for k in range(len(steps))]
        key = tuple(b for b in blocks if b)
        law[key] = law.get(key, sp.Integer(0)) + weight
    return law


def symbolic_factorization_error(p: Any, schedule: Any) -> Any:
    """E_fact as an exact expression.

    Deterministic partitions use ``Σ_k [Σ_{i∈z_k} H(X_i | X_{z<k}) − H(X_{z_k} | X_{z<k})]``,
    exchangeable sizes ``Σ_i f(i) − Σ_k s_{k+1} f(a_k)``, and a random-reveal schedule averages
    the exchangeable formula over the exact law of its sizes (each position picks its reveal
    step k independently with probability ``t_{k−1} − t_k``).

    Examples
    --------
    >>> import sympy
    >>> q = sympy.Rational(1, 4)
    >>> symbolic_factorization_error(sympy.Array([[q, q], [q, q]]), [[1], [0]])
    0
    """
    import sympy as sp

    d = symbolic_law(p)
    sched = as_schedule(schedule, d.n)
    if isinstance(sched, DeterministicSchedule):
        return tidy(_deterministic(exact_subset_entropies(d), sched.partition, d.n))
    if isinstance(sched, ExchangeableSchedule):
        return tidy(_exchangeable(symbolic_information_profile(d), sched.sizes))
    if isinstance(sched, RandomRevealSchedule):
        f = symbolic_information_profile(d)
        by_sizes: dict[tuple[int, ...], Any] = {}
        for part, w in _random_reveal_partitions(sched, d.n).items():
            sizes = tuple(len(b) for b in part)
            by_sizes[sizes] = by_sizes.get(sizes, sp.Integer(0)) + w
        return tidy(sp.Add(*(w * _exchangeable(f, s) for s, w in by_sizes.items())))
    raise ScheduleError(
        f"schedule: symbolic E_fact supports exchangeable, deterministic and random-reveal "
        f"schedules; received {sched!r}"
    )


def symbolic_kl(p: Any, r: Any) -> Any:
    """KL(p ‖ r) = Σ_{p(x) ≠ 0} p(x) (log p(x) − log r(x)), exactly; ``sympy.oo`` when r is
    exactly 0 where p is not.

    Entries that are not identically zero are treated as positive (the positivity assumption).

    Examples
    --------
    >>> import sympy
    >>> h = sympy.Rational(1, 2)
    >>> symbolic_kl(sympy.Array([h, h]), sympy.Array([sympy.Rational(1, 4), sympy.Rational(3, 4)]))
    -log(3)/2 + log(2)
    """
    import sympy as sp

    dp, dr = symbolic_law(p, "p"), symbolic_law(r, "r")
    if dp.shape != dr.shape:
        raise ValidationError(f"r: must have the shape of p {dp.shape}; received {dr.shape}")
    terms = []
    for a, b in zip(
        np.asarray(dp.table).reshape(-1).tolist(), np.asarray(dr.table).reshape(-1).tolist()
    ):
        if a.is_zero:
            continue
        if b.is_zero:
            return sp.oo
        terms.append(a * (sp.log(a) - sp.log(b)))
    return tidy(sp.Add(*terms))


def simplify_exact(expr: Any) -> Any:
    """Simplify an exact expression, trying cheap steps first; 0 when they prove it is 0.

    Steps: ``expand``; then ``expand_log(force=True)`` (valid under the positivity assumption)
    with logs of rationals split into logs of primes; then ``sympy.simplify`` with exponentials
    rewritten. Returns the first result that is 0, else the last one.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x", positive=True)
    >>> simplify_exact(sympy.log(4 * x) - 2 * sympy.log(2) - sympy.log(x))
    0
    """
    import sympy as sp

    e = sp.expand(sp.sympify(expr))
    if e == 0:
        return e
    e = split_integer_logs(sp.expand(sp.expand_log(e, force=True)))
    if e == 0:
        return e
    return sp.simplify(sp.expand_log(sp.simplify(e), force=True))


def is_symbolic_input(x: Any) -> bool:
    """Whether ``x`` is a symbolic law or exact profile: a symbolic Distribution, a numpy
    object array, a sympy object, or (nested) lists holding a sympy object.

    Examples
    --------
    >>> import sympy
    >>> is_symbolic_input([sympy.log(2), 0]), is_symbolic_input([0.5, 0.5])
    (True, False)
    """
    if isinstance(x, Distribution):
        return x.backend.name == "symbolic"
    if isinstance(x, np.ndarray):
        return x.dtype == object
    if type(x).__module__.startswith("sympy"):
        return True
    if isinstance(x, list | tuple):
        return any(is_symbolic_input(v) for v in x)
    return False


def float_profile(p_or_profile: Any) -> np.ndarray:
    """The information profile as float64, from a symbolic law or an exact 1-D profile.

    Each ``f(i)`` is evaluated to 50 digits and then rounded, for the float algorithms (the
    optimal schedule's dynamic programme). Free symbols must be substituted first.

    Examples
    --------
    >>> import sympy
    >>> float_profile([-sympy.log(2), 0]).round(6).tolist()
    [-0.693147, 0.0]
    """
    import sympy as sp

    arr = None
    if not isinstance(p_or_profile, Distribution):
        try:
            arr = np.asarray(p_or_profile, dtype=object)
        except (TypeError, ValueError):  # pragma: no cover - ragged input: read it as a law
            arr = None
    if arr is not None and arr.ndim == 1:
        values = [to_exact(v) for v in arr.tolist()]
    else:
        values = symbolic_information_profile(p_or_profile)
    free = set().union(*(getattr(v, "free_symbols", set()) for v in values))
    if free:
        raise ValidationError(
            f"p_or_profile: a float profile needs numbers; substitute the free symbols "
            f"{sorted(free, key=str)} first"
        )
    return np.array([float(sp.N(v, 50)) for v in values], dtype=np.float64)
