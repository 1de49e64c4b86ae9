"""The sampler's exact output law p_alg for symbolic laws, by brute force over ordered partitions.

For an ordered partition ``(z_1, …, z_K)`` the sampler returns ``x`` with probability
``Π_k Π_{i∈z_k} p(x_i | x_{z<k})``. An exchangeable schedule averages this over the ordered
partitions with its sizes (all equally likely); a random-reveal schedule over the partitions
produced by letting each position pick its reveal step k independently with probability
``t_{k−1} − t_k``. This is exponential in N, which is fine for the small N of symbolic work.

The exact denoiser is ``π(x_i = v | x_c) = M[x_c, x_i := v] / M[x_c]`` from the masked-marginal
tensor; on a context that is *exactly* of probability 0 it is uniform on ``X_i``
(:data:`exactmd.enumeration.ZERO_CONTEXT_POLICY`). A context probability that is not
identically 0
is treated as positive.

Examples
--------
>>> import sympy
>>> h = sympy.Rational(1, 2)
>>> symbolic_output_distribution(sympy.Array([[h, 0], [0, h]]), [2]).tolist()
[[1/4, 1/4], [1/4, 1/4]]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from exactmd.backends import to_host
from exactmd.backends._symbolic import to_exact
from exactmd.errors import DenoiserError, ScheduleError, describe
from exactmd.schedules.kinds import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    as_schedule,
)
from exactmd.symbolic.measures import (
    _random_reveal_partitions,
    exact_masked_tensor,
    ordered_partitions,
    symbolic_law,
)

__all__ = ["symbolic_output_distribution", "symbolic_learning_error", "weighted_partitions"]

Partition = tuple[tuple[int, ...], ...]


def weighted_partitions(schedule: Any, n: int) -> dict[Partition, Any]:
    """The law of the ordered partition ``(z_1, …, z_K)`` a schedule draws, exactly.

    Examples
    --------
    >>> weighted_partitions([1, 1], 2)
    {((0,), (1,)): 1/2, ((1,), (0,)): 1/2}
    """
    import sympy as sp

    sched = as_schedule(schedule, n)
    if isinstance(sched, DeterministicSchedule):
        return {sched.partition: sp.Integer(1)}
    if isinstance(sched, ExchangeableSchedule):
        parts = list(ordered_partitions(n, sched.sizes))
        return {part: sp.Rational(1, len(parts)) for part in parts}
    if isinstance(sched, RandomRevealSchedule):
        return _random_reveal_partitions(sched, n)
    raise ScheduleError(
        f"schedule: symbolic p_alg supports exchangeable, deterministic and random-reveal "
        f"schedules; received {sched!r}"
    )


def _denoiser_rows(
    denoiser: Callable[[Any], Any], shape: tuple[int, ...]
) -> Callable[[tuple[int, ...]], np.ndarray]:
    """Wrap a contract denoiser: masked tokens ``y`` -> exact (N, q) object array."""
    import sympy as sp

    n, q = len(shape), max(shape)

    def rows(y: tuple[int, ...]) -> np.ndarray:
        tokens = np.array([[q if y[i] == shape[i] else y[i] for i in range(n)]], dtype=np.int64)
        arr = to_host(denoiser(tokens), dtype=object)
        if arr.shape != (1, n, q):
            raise DenoiserError(
                f"denoiser: must return an array of shape (B, N, q) = (1, {n}, {q}); "
                f"received shape {arr.shape}"
            )
        out = np.empty((n, q), dtype=object)
        out.reshape(-1)[:] = [to_exact(v) for v in arr[0].reshape(-1).tolist()]
        for i in range(n):
            if y[i] != shape[i]:
                continue
            extra = [v for v in out[i, shape[i] :] if not v.is_zero]
            neg = [v for v in out[i, : shape[i]] if v.is_extended_negative]
            total = sp.Add(*out[i, : shape[i]])
            bad = bool(extra or neg)
            if not bad and total.is_Number:
                bad = abs(float(total) - 1.0) > 1e-8
            elif not bad:
                bad = sp.simplify(total - 1) != 0
            if bad:
                raise DenoiserError(
                    f"denoiser: row {i} of the output for tokens {tokens[0].tolist()} must be a "
                    f"law on range({shape[i]}) (>= 0, zero beyond q_i, summing to 1); "
                    f"received {describe(out[i].tolist())}"
                )
        return out

    return rows


def symbolic_output_distribution(p: Any, schedule: Any, denoiser: Any = None) -> np.ndarray:
    """p_alg, the exact law of the factorized sampler's output, as an object array.

    Parameters
    ----------
    p
        A symbolic law (see :mod:`exactmd.symbolic.law`).
    schedule
        Sizes (exchangeable), an ordered partition (deterministic) or a schedule object
        (including random reveal, whose grid floats are read as decimals).
    denoiser
        None for the exact π-conditionals, or a contract denoiser (tokens ``(B, N)`` with the
        mask ``q = max q_i`` -> probabilities ``(B, N, q)``); it is called with B = 1, and
        float outputs are read as the decimals they print as.

    Returns
    -------
    numpy.ndarray
        Object array of the shape of ``p`` holding exact sympy expressions.

    Examples
    --------
    >>> import sympy
    >>> q = sympy.Rational(1, 4)
    >>> symbolic_output_distribution(sympy.Array([[q, q], [q, q]]), [[0, 1]]).tolist()
    [[1/4, 1/4], [1/4, 1/4]]
    """
    import sympy as sp

    d = symbolic_law(p)
    shape, n = d.shape, d.n
    parts = weighted_partitions(schedule, n)
    m = exact_masked_tensor(d)
    rows = _denoiser_rows(denoiser, shape) if denoiser is not None else None
    cache: dict[tuple[int, ...], Any] = {}

    def cond(y: tuple[int, ...], i: int, v: int) -> Any:
        if rows is not None:
            if y not in cache:
                cache[y] = rows(y)
            return cache[y][i, v]
        den = m[y]
        if den.is_zero:
            return sp.Rational(1, shape[i])
        y_v = list(y)
        y_v[i] = v
        return m[tuple(y_v)] / den

    out = np.full(shape, sp.Integer(0), dtype=object)
    for x in itertools.product(*(range(s) for s in shape)):
        terms = []
        for part, weight in parts.items():
            y = list(shape)  # all masked
            prob: Any = weight
            for block in part:
                ctx = tuple(y)
                for i in block:
                    prob *= cond(ctx, i, x[i])
                    if prob == 0:
                        break
                if prob == 0:
                    break
                for i in block:
                    y[i] = x[i]
            terms.append(prob)
        out[x] = sp.Add(*terms)
    return out


def symbolic_learning_error(p: Any, schedule: Any, denoiser: Any) -> Any:
    """E_learn = E[Σ_k Σ_{i∈z_k} KL(π(x_i | x_{z<k}) ‖ p(x_i | x_{z<k}))], exactly.

    Brute force over the ordered partitions the schedule draws (:func:`weighted_partitions`)
    and over ``x`` with ``π(x) != 0``; ``sympy.oo`` when the denoiser puts an exact 0 where π
    does not; 0 when ``denoiser`` is None (the exact one).

    Examples
    --------
    >>> import numpy as np, sympy
    >>> q = sympy.Rational(1, 4)
    >>> xor = sympy.Array([[[q, 0], [0, q]], [[0, q], [q, 0]]])
    >>> uniform = lambda t: np.full((t.shape[0], 3, 2), 0.5)
    >>> symbolic_learning_error(xor, [1, 1, 1], uniform)  # the last position is determined
    log(2)
    """
    import sympy as sp

    from exactmd.backends._symbolic import tidy

    d = symbolic_law(p)
    parts = weighted_partitions(schedule, d.n)
    if denoiser is None:
        return sp.Integer(0)
    shape, m = d.shape, exact_masked_tensor(d)
    rows = _denoiser_rows(denoiser, shape)
    model: dict[tuple[int, ...], np.ndarray] = {}
    kls: dict[tuple[tuple[int, ...], int], Any] = {}

    def kl_at(y: tuple[int, ...], i: int) -> Any:
        if (y, i) not in kls:
            if y not in model:
                model[y] = rows(y)
            den, terms = m[y], []
            for v in range(shape[i]):
                y_v = list(y)
                y_v[i] = v
                a = m[tuple(y_v)] / den
                if a.is_zero:
                    continue
                b = model[y][i, v]
                if b.is_zero:
                    return sp.oo
                terms.append(a * (sp.log(a) - sp.log(b)))
            kls[(y, i)] = sp.Add(*terms)
        return kls[(y, i)]

    table = np.asarray(d.table)
    total: list[Any] = []
    for x in itertools.product(*(range(s) for s in shape)):
        px = table[x]
        if px.is_zero:
            continue
        for part, weight in parts.items():
            y = list(shape)
            for block in part:
                ctx = tuple(y)
                for i in block:
                    term = kl_at(ctx, i)
                    if term == sp.oo:
                        return sp.oo
                    total.append(weight * px * term)
                for i in block:
                    y[i] = x[i]
    return tidy(sp.Add(*total))
