"""An independent brute-force reference for the exact quantities of exactmd.

Nothing here uses exactmd's masked-marginal tensor or its fast paths: every entropy is computed
by summing axes of the joint, the information profile by averaging log-conditionals over ALL
permutations, the factorization error of an exchangeable schedule by averaging over ALL ordered
partitions with the given sizes of ``Σ_k TC(z_k | x_{z<k})`` computed from explicit
conditionals, and the deterministic one from the definition.

Import it from a test file as ``from brute import ...`` (pytest's default ``prepend`` import
mode puts ``tests/`` on ``sys.path``) or as ``from tests.brute import ...`` when the repository
root is on ``sys.path``. Everything is float64 numpy and meant for N <= 6.

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.5, 0.0], [0.0, 0.5]])
>>> round(brute_total_correlation(p), 6)
0.693147
>>> np.round(brute_profile(p), 6).tolist()
[-0.693147, 0.0]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np

__all__ = [
    "marginal_keepdims",
    "brute_marginal",
    "brute_entropy_of",
    "brute_subset_entropies",
    "brute_entropy",
    "brute_total_correlation",
    "brute_dual_total_correlation",
    "brute_complexity",
    "brute_profile",
    "brute_conditional",
    "brute_block_tc",
    "brute_deterministic_error",
    "ordered_partitions",
    "brute_exchangeable_error",
    "size_paths",
    "brute_random_reveal_error",
    "brute_kl",
]


def _as_table(p: object) -> np.ndarray:
    return np.asarray(p, dtype=np.float64)


def marginal_keepdims(p: np.ndarray, subset: Iterable[int]) -> np.ndarray:
    """The marginal on ``subset``, summing the other axes with ``keepdims`` (broadcastable)."""
    keep = set(subset)
    drop = tuple(i for i in range(p.ndim) if i not in keep)
    return p.sum(axis=drop, keepdims=True) if drop else p


def brute_marginal(p: object, subset: Iterable[int]) -> np.ndarray:
    """The marginal on ``subset`` with axes in increasing order, by summing the other axes."""
    t = _as_table(p)
    keep = set(subset)
    drop = tuple(i for i in range(t.ndim) if i not in keep)
    return t.sum(axis=drop) if drop else t.copy()


def brute_entropy_of(p: object, subset: Iterable[int]) -> float:
    """H(X_S) in nats: sum the other axes, then −Σ m log m over the positive entries."""
    m = brute_marginal(p, subset).reshape(-1)
    m = m[m > 0]
    return float(-np.sum(m * np.log(m)))


def brute_subset_entropies(p: object) -> dict[frozenset[int], float]:
    """H(X_S) for every subset S of range(N), by summing axes (H(∅) = 0)."""
    t = _as_table(p)
    out: dict[frozenset[int], float] = {}
    for k in range(t.ndim + 1):
        for s in itertools.combinations(range(t.ndim), k):
            out[frozenset(s)] = brute_entropy_of(t, s) if s else 0.0
    return out


def brute_entropy(p: object) -> float:
    """The joint entropy H(X) = −Σ_x π(x) log π(x)."""
    t = _as_table(p).reshape(-1)
    t = t[t > 0]
    return float(-np.sum(t * np.log(t)))


def brute_total_correlation(p: object) -> float:
    """TC = Σ_i H(X_i) − H(X)."""
    t = _as_table(p)
    return sum(brute_entropy_of(t, [i]) for i in range(t.ndim)) - brute_entropy(t)


def brute_dual_total_correlation(p: object) -> float:
    """DTC = H(X) − Σ_i H(X_i | X_{−i}), with H(X_i | X_{−i}) = H(X) − H(X_{−i})."""
    t = _as_table(p)
    n, h = t.ndim, brute_entropy(t)
    cond = [h - brute_entropy_of(t, [j for j in range(n) if j != i]) for i in range(n)]
    return h - sum(cond)


def brute_complexity(p: object) -> float:
    """D(π) = (1/N) Σ_i I(X_i ; X_{−i}), each mutual information from summed marginals."""
    t = _as_table(p)
    n, h = t.ndim, brute_entropy(t)
    total = 0.0
    for i in range(n):
        rest = [j for j in range(n) if j != i]
        total += brute_entropy_of(t, [i]) + brute_entropy_of(t, rest) - h
    return total / n


def _expected_log(p: np.ndarray, num: np.ndarray, den: np.ndarray) -> float:
    """E_{x~π}[log(num(x) / den(x))] over the support of π (num, den broadcast to p)."""
    support = p > 0
    ratio = np.broadcast_to(num, p.shape)[support] / np.broadcast_to(den, p.shape)[support]
    return float(np.sum(p[support] * np.log(ratio)))


def brute_profile(p: object) -> np.ndarray:
    """f(i) = E[log π(x_{σ(i+1)} | x_{σ(1..i)})] averaged over ALL N! permutations σ.

    Each conditional is the explicit ratio of two summed marginals, evaluated on the support.
    """
    t = _as_table(p)
    n = t.ndim
    f = np.zeros(n)
    cache: dict[tuple[frozenset[int], int], float] = {}
    perms = list(itertools.permutations(range(n)))
    for sigma in perms:
        for i in range(n):
            key = (frozenset(sigma[:i]), sigma[i])
            if key not in cache:
                before = marginal_keepdims(t, sigma[:i])
                after = marginal_keepdims(t, sigma[: i + 1])
                cache[key] = _expected_log(t, after, before)
            f[i] += cache[key]
    return f / len(perms)


def brute_conditional(p: object, i: int, given: Mapping[int, int] | None = None) -> np.ndarray:
    """π(x_i = · | x_S = given) by slicing the joint; uniform when π(x_S = given) = 0."""
    t = _as_table(p)
    index: list[Any] = [slice(None)] * t.ndim
    for j, v in (given or {}).items():
        index[j] = v
    sliced = t[tuple(index)]
    # the axis of i among the remaining (unsliced) axes
    remaining = [j for j in range(t.ndim) if j not in (given or {})]
    axis = remaining.index(i)
    other = tuple(a for a in range(len(remaining)) if a != axis)
    weights = sliced.sum(axis=other) if other else sliced
    total = float(weights.sum())
    if total <= 0:
        return np.full(t.shape[i], 1.0 / t.shape[i])
    return np.asarray(weights / total, dtype=np.float64)


def brute_block_tc(p: object, block: Sequence[int], context: Sequence[int]) -> float:
    """TC_π(z | x_c) = E_x[log π(x_z | x_c) − Σ_{i∈z} log π(x_i | x_c)], explicit conditionals."""
    t = _as_table(p)
    ctx = list(context)
    den = marginal_keepdims(t, ctx)
    value = _expected_log(t, marginal_keepdims(t, ctx + list(block)), den)
    for i in block:
        value -= _expected_log(t, marginal_keepdims(t, [*ctx, i]), den)
    return value


def brute_deterministic_error(p: object, partition: Sequence[Sequence[int]]) -> float:
    """E_fact of a fixed ordered partition, Σ_k TC_π(z_k | x_{z<k}), from the definition."""
    t = _as_table(p)
    total = 0.0
    context: list[int] = []
    for block in partition:
        total += brute_block_tc(t, list(block), context)
        context.extend(block)
    return total


def ordered_partitions(n: int, sizes: Sequence[int]) -> Iterator[tuple[tuple[int, ...], ...]]:
    """All ordered partitions (z_1, …, z_K) of range(n) with |z_k| = sizes[k]."""

    def rec(remaining: tuple[int, ...], k: int) -> Iterator[tuple[tuple[int, ...], ...]]:
        if k == len(sizes):
            yield ()
            return
        for block in itertools.combinations(remaining, sizes[k]):
            rest = tuple(i for i in remaining if i not in block)
            for tail in rec(rest, k + 1):
                yield (block, *tail)

    if sum(sizes) != n:
        raise ValueError(f"sizes {tuple(sizes)} do not sum to n={n}")
    yield from rec(tuple(range(n)), 0)


def brute_exchangeable_error(p: object, sizes: Sequence[int]) -> float:
    """E_fact of an exchangeable schedule: the average over ALL ordered partitions with the
    given sizes of Σ_k TC_π(z_k | x_{z<k}) (TC of a (context, block) pair memoised)."""
    t = _as_table(p)
    memo: dict[tuple[frozenset[int], frozenset[int]], float] = {}
    total, count = 0.0, 0
    for part in ordered_partitions(t.ndim, [s for s in sizes if s > 0]):
        context: list[int] = []
        value = 0.0
        for block in part:
            key = (frozenset(context), frozenset(block))
            if key not in memo:
                memo[key] = brute_block_tc(t, sorted(block), sorted(context))
            value += memo[key]
            context.extend(block)
        total += value
        count += 1
    return total / count


def size_paths(n: int, steps: int) -> Iterator[tuple[int, ...]]:
    """All (s_1, …, s_K) with s_k >= 0 and Σ s_k = n (compositions allowing empty steps)."""
    if steps == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for tail in size_paths(n - first, steps - 1):
            yield (first, *tail)


def brute_random_reveal_error(p: object, grid: Sequence[float]) -> float:
    """E_fact of MDLM's random-reveal sampler on ``grid``: enumerate every size path, weight it
    by its probability (each masked position revealed at step k with r_k = (t_{k−1}−t_k)/t_{k−1},
    independently), and average the brute exchangeable E_fact of its non-empty steps."""
    t = _as_table(p)
    n = t.ndim
    r = [(grid[k - 1] - grid[k]) / grid[k - 1] for k in range(1, len(grid))]

    @cache
    def exch(sizes: tuple[int, ...]) -> float:
        return brute_exchangeable_error(t, sizes)

    total = prob_sum = 0.0
    for path in size_paths(n, len(r)):
        prob, masked = 1.0, n
        for s, rk in zip(path, r):
            prob *= math.comb(masked, s) * rk**s * (1.0 - rk) ** (masked - s)
            masked -= s
        if prob == 0.0:
            continue
        total += prob * exch(tuple(s for s in path if s > 0))
        prob_sum += prob
    assert abs(prob_sum - 1.0) < 1e-12, prob_sum
    return total


def brute_kl(p: object, r: object) -> float:
    """KL(p ‖ r) = Σ p log(p / r); inf when r is 0 where p is not."""
    a = _as_table(p).reshape(-1)
    b = _as_table(r).reshape(-1)
    s = a > 0
    if np.any(b[s] == 0):
        return math.inf
    return float(np.sum(a[s] * np.log(a[s] / b[s])))
