"""Independent brute force for the sampler: enumerate every reveal sequence explicitly.

Nothing here uses exactmd's levels or masked tensor. A reveal sequence is an ordered partition
(z_1, …, z_K) of range(N) (blocks may be empty for random reveal) with its probability under the
planner; for each one and each outcome x, the probability of x is the product over steps of the
denoiser's conditionals ``p(x_i | x_{z<k})``, each read from one explicit denoiser call on the
tokens of that context. The exact conditionals come from :func:`brute.brute_conditional`
(slicing the joint), E_learn from the definition.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from brute import brute_conditional, ordered_partitions

__all__ = [
    "exact_brute_denoiser",
    "exchangeable_sequences",
    "deterministic_sequences",
    "random_reveal_sequences",
    "sequences",
    "brute_output",
    "brute_learning_error",
]

Sequences = list[tuple[float, tuple[tuple[int, ...], ...]]]


def exact_brute_denoiser(p: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """π's conditionals by slicing the joint (uniform on zero contexts), as a numpy denoiser."""
    shape, q = p.shape, max(p.shape)

    def den(tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens)
        out = np.zeros((len(tokens), len(shape), q))
        for b, row in enumerate(tokens):
            given = {j: int(v) for j, v in enumerate(row) if v != q}
            for i in range(len(shape)):
                if i not in given:
                    out[b, i, : shape[i]] = brute_conditional(p, i, given)
        return out

    return den


def exchangeable_sequences(n: int, sizes: Sequence[int]) -> Sequences:
    parts = list(ordered_partitions(n, list(sizes)))
    return [(1.0 / len(parts), part) for part in parts]


def deterministic_sequences(partition: Sequence[Sequence[int]]) -> Sequences:
    return [(1.0, tuple(tuple(b) for b in partition))]


def random_reveal_sequences(n: int, grid: Sequence[float]) -> Sequences:
    """Every assignment of positions to steps, each position independently revealed at step k
    with probability ``r_k`` given it is still masked."""
    r = [(grid[k - 1] - grid[k]) / grid[k - 1] for k in range(1, len(grid))]
    step_prob = [math.prod(1 - r[j] for j in range(k)) * r[k] for k in range(len(r))]
    out: Sequences = []
    for assign in itertools.product(range(len(r)), repeat=n):
        prob = math.prod(step_prob[k] for k in assign)
        if prob > 0:
            blocks = tuple(tuple(i for i in range(n) if assign[i] == k) for k in range(len(r)))
            out.append((prob, blocks))
    return out


def sequences(n: int, schedule: object) -> Sequences:
    """Dispatch on a schedule given as sizes, a partition or a RandomRevealSchedule."""
    grid = getattr(schedule, "grid", None)
    if grid is not None:
        return random_reveal_sequences(n, grid)
    items = list(schedule)  # type: ignore[call-overload]
    if items and not isinstance(items[0], (int, np.integer)):
        return deterministic_sequences(items)
    return exchangeable_sequences(n, items)


def _outcomes(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(s) for s in shape))


def brute_output(
    p: np.ndarray, schedule: object, denoiser: Callable[[np.ndarray], np.ndarray] | None = None
) -> np.ndarray:
    """p_alg by summing, over every reveal sequence and outcome, the product of conditionals."""
    p = np.asarray(p, dtype=np.float64)
    shape, n, q = p.shape, p.ndim, max(p.shape)
    den = denoiser if denoiser is not None else exact_brute_denoiser(p)
    xs = np.array(list(_outcomes(shape)), dtype=np.int64)
    out = np.zeros(len(xs))
    for weight, blocks in sequences(n, schedule):
        prob = np.full(len(xs), weight)
        done: list[int] = []
        for block in blocks:
            if not block:
                continue
            tokens = np.full_like(xs, q)
            tokens[:, done] = xs[:, done]
            cond = den_call(den, tokens)
            for i in block:
                prob = prob * cond[np.arange(len(xs)), i, xs[:, i]]
            done.extend(block)
        out += prob
    return out.reshape(shape)


def brute_learning_error(
    p: np.ndarray, schedule: object, denoiser: Callable[[np.ndarray], np.ndarray]
) -> float:
    """E_learn from its definition: Σ over sequences, steps, contexts x_S with π(x_S) > 0 and
    i ∈ z_k of π(x_S) · KL(π(x_i | x_S) ‖ p(x_i | x_S))."""
    p = np.asarray(p, dtype=np.float64)
    n, q = p.ndim, max(p.shape)
    total = 0.0
    for weight, blocks in sequences(n, schedule):
        done: list[int] = []
        for block in blocks:
            if not block:
                continue
            axes = tuple(i for i in range(n) if i not in done)
            marg = p.sum(axis=axes) if axes else p
            ctx = sorted(done)
            for values in _outcomes(tuple(p.shape[i] for i in ctx)):
                mass = float(marg[values]) if ctx else 1.0
                if mass <= 0:
                    continue
                given = dict(zip(ctx, values))
                tokens = np.full((1, n), q, dtype=np.int64)
                for j, v in given.items():
                    tokens[0, j] = v
                model = np.asarray(den_call(denoiser, tokens))[0]
                for i in block:
                    exact = brute_conditional(p, i, given)
                    mod = model[i, : p.shape[i]]
                    support = exact > 0
                    if np.any(mod[support] <= 0):
                        return math.inf
                    kl = float(np.sum(exact[support] * np.log(exact[support] / mod[support])))
                    total += weight * mass * kl
            done.extend(block)
    return total


def den_call(denoiser: Callable[[np.ndarray], np.ndarray], tokens: np.ndarray) -> np.ndarray:
    out = denoiser(tokens)
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    return np.asarray(out, dtype=np.float64)
