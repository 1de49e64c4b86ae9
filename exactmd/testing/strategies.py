"""Hypothesis strategies for property-testing code against exactmd.

- :func:`joints` — random joint laws as float64 numpy arrays, with exact zeros when asked;
  weights are small integers, so shrinking gives readable laws (ties and zeros included).
- :func:`schedules` — exchangeable, deterministic and random-reveal schedule objects for N.
- :func:`models` — joints, the classic laws (XOR, block copy, independent), random Bayesian
  networks, and the named laws of :mod:`exactmd.models.zoo` (:func:`zoo_laws`) when that
  module is importable (without it the strategy still works on the rest).

Requires ``hypothesis`` (imported by this module).

Examples
--------
>>> from hypothesis import given, settings
>>> @settings(max_examples=5, deadline=None)
... @given(joints(n=2))
... def test_sums_to_one(p):
...     assert abs(p.sum() - 1) < 1e-12 and p.ndim == 2
>>> test_sums_to_one()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from exactmd._validate import check_int
from exactmd.errors import ValidationError, describe
from exactmd.schedules.kinds import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    Schedule,
)

__all__ = ["joints", "schedules", "models", "bayesian_networks", "classic_laws", "zoo_laws"]

_KINDS = ("exchangeable", "deterministic", "random_reveal")


def _alphabets(
    alphabets: Sequence[int] | st.SearchStrategy[Sequence[int]] | None,
    n: int | st.SearchStrategy[int] | None,
    max_n: int,
    min_q: int,
    max_q: int,
) -> st.SearchStrategy[tuple[int, ...]]:
    if isinstance(alphabets, st.SearchStrategy):
        return alphabets.map(lambda a: tuple(int(q) for q in a))
    if alphabets is not None:
        shape = tuple(int(q) for q in alphabets)
        if not shape or any(q < 1 for q in shape):
            raise ValidationError(
                f"alphabets: must be a non-empty sequence of sizes >= 1; "
                f"received {describe(alphabets)}"
            )
        return st.just(shape)
    ns = n if isinstance(n, st.SearchStrategy) else st.just(n) if n else st.integers(1, max_n)
    return ns.flatmap(
        lambda k: st.lists(st.integers(min_q, max_q), min_size=k, max_size=k).map(tuple)
    )


def joints(
    alphabets: Sequence[int] | st.SearchStrategy[Sequence[int]] | None = None,
    *,
    n: int | st.SearchStrategy[int] | None = None,
    max_n: int = 4,
    min_q: int = 2,
    max_q: int = 3,
    zeros: bool = True,
    max_weight: int = 20,
) -> st.SearchStrategy[np.ndarray]:
    """Joint laws: float64 arrays of shape ``(q_0, …, q_{N-1})`` summing to 1.

    Parameters
    ----------
    alphabets
        A fixed shape, a strategy of shapes, or None: N from ``n`` (default 1..``max_n``)
        and each ``q_i`` in ``min_q..max_q`` (mixed alphabets).
    zeros
        Whether entries may be exactly 0 (at least one entry stays positive).
    max_weight
        Entries are integer weights in ``0..max_weight`` (``1..`` without zeros), normalised.
    """

    max_n = check_int(max_n, "max_n")
    min_q = check_int(min_q, "min_q")
    max_q = check_int(max_q, "max_q", minimum=min_q)
    max_weight = check_int(max_weight, "max_weight")
    if n is not None and not isinstance(n, st.SearchStrategy):
        n = check_int(n, "n")

    def build(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
        cells = int(np.prod(shape))
        low = 0 if zeros else 1
        weights = st.lists(st.integers(low, max_weight), min_size=cells, max_size=cells)
        return weights.map(lambda w: _normalise(w, shape))

    return _alphabets(alphabets, n, max_n, min_q, max_q).flatmap(build)


def _normalise(weights: Sequence[int], shape: tuple[int, ...]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64).reshape(shape)
    if w.sum() == 0:
        w.flat[0] = 1.0
    return w / w.sum()


def _compositions(n: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Sizes ``(s_1, …, s_K)`` of positive ints summing to n, from n − 1 cut decisions."""

    def sizes(cuts: list[bool]) -> tuple[int, ...]:
        out, run = [], 1
        for cut in cuts:
            if cut:
                out.append(run)
                run = 1
            else:
                run += 1
        return (*out, run)

    return st.lists(st.booleans(), min_size=n - 1, max_size=n - 1).map(sizes)


def schedules(
    n: int | st.SearchStrategy[int],
    kinds: Sequence[str] = _KINDS,
    max_steps: int = 4,
) -> st.SearchStrategy[Schedule]:
    """Valid schedules for N = ``n``.

    Parameters
    ----------
    n
        The number of positions (an int or a strategy of ints).
    kinds
        Any of ``"exchangeable"`` (:class:`ExchangeableSchedule`), ``"deterministic"``
        (:class:`DeterministicSchedule`, a random ordered partition) and ``"random_reveal"``
        (:class:`RandomRevealSchedule` with at most ``max_steps`` steps on a grid of
        multiples of 1/20).

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(schedules(4, kinds=["exchangeable"]))
    ... def test_sizes(s):
    ...     assert sum(s.sizes) == 4
    >>> test_sizes()
    """
    bad = [k for k in kinds if k not in _KINDS]
    if bad or not kinds:
        raise ValidationError(f"kinds: must be a non-empty subset of {_KINDS}; received {kinds}")
    max_steps = check_int(max_steps, "max_steps")
    if isinstance(n, st.SearchStrategy):
        return n.flatmap(lambda k: schedules(int(k), kinds, max_steps))
    n = check_int(n, "n")
    options: list[st.SearchStrategy[Schedule]] = []
    if "exchangeable" in kinds:
        options.append(_compositions(n).map(ExchangeableSchedule))
    if "deterministic" in kinds:

        def partition(args: tuple[list[int], tuple[int, ...]]) -> Schedule:
            perm, sizes = args
            bounds = np.concatenate([[0], np.cumsum(sizes)])
            blocks = tuple(tuple(perm[bounds[k] : bounds[k + 1]]) for k in range(len(sizes)))
            return DeterministicSchedule(blocks)

        options.append(st.tuples(st.permutations(range(n)), _compositions(n)).map(partition))
    if "random_reveal" in kinds:
        times = st.sets(st.integers(1, 19), max_size=max(0, max_steps - 1))
        options.append(
            times.map(
                lambda ts: RandomRevealSchedule(
                    (1.0, *(t / 20 for t in sorted(ts, reverse=True)), 0.0)
                )
            )
        )
    return st.one_of(options)


def classic_laws(max_n: int = 4) -> st.SearchStrategy[np.ndarray]:
    """The laws of docs/design.md ("Known answers"): XOR of two fair bits, block copy, independent
    products."""
    max_n = check_int(max_n, "max_n")

    def xor(_: Any) -> np.ndarray:
        p = np.zeros((2, 2, 2))
        for a in (0, 1):
            for b in (0, 1):
                p[a, b, a ^ b] = 0.25
        return p

    def block_copy(args: tuple[tuple[int, ...], int]) -> np.ndarray:
        sizes, q = args
        law = np.ones(())
        for s in sizes:
            block = np.zeros((q,) * s)
            for v in range(q):
                block[(v,) * s] = 1.0 / q
            law = np.multiply.outer(law, block)
        return np.asarray(law)

    copies = st.tuples(_compositions(max_n), st.integers(2, 3)).map(block_copy)
    independent = st.lists(joints(n=1), min_size=1, max_size=max_n).map(
        lambda ms: np.asarray(_outer(ms))
    )
    return st.one_of(st.just(None).map(xor), copies, independent)


def _outer(marginals: Sequence[np.ndarray]) -> np.ndarray:
    law = np.ones(())
    for m in marginals:
        law = np.multiply.outer(law, m)
    return law


def bayesian_networks(
    max_n: int = 4, max_q: int = 3, max_parents: int = 2, zeros: bool = True
) -> st.SearchStrategy[np.ndarray]:
    """Joint laws of random Bayesian networks (random DAG in a fixed order, integer CPTs)."""

    max_n = check_int(max_n, "max_n")
    max_q = check_int(max_q, "max_q", minimum=2)
    max_parents = check_int(max_parents, "max_parents", minimum=0)

    @st.composite
    def build(draw: Callable[[Any], Any]) -> np.ndarray:
        n = draw(st.integers(1, max_n))
        shape = tuple(draw(st.integers(2, max_q)) for _ in range(n))
        law = np.ones(())
        for i in range(n):
            earlier = list(range(i))
            parents = sorted(
                draw(st.sets(st.sampled_from(earlier), max_size=min(max_parents, i)))
                if earlier
                else set()
            )
            rows = int(np.prod([shape[j] for j in parents]))
            low = 0 if zeros else 1
            cpt = np.asarray(
                [
                    draw(st.lists(st.integers(low, 9), min_size=shape[i], max_size=shape[i]))
                    for _ in range(rows)
                ],
                dtype=np.float64,
            )
            cpt[cpt.sum(axis=1) == 0, 0] = 1.0
            cpt /= cpt.sum(axis=1, keepdims=True)
            table = cpt.reshape((*(shape[j] for j in parents), shape[i]))
            expand = [shape[j] if j in parents else 1 for j in range(i)] + [shape[i]]
            law = law[..., None] * table.reshape(expand)
        return np.asarray(law / law.sum())

    return build()


def zoo_laws(max_n: int = 4) -> st.SearchStrategy[np.ndarray] | None:
    """Named laws of :mod:`exactmd.models.zoo` (parity, block copy, Markov chains, random
    XOR-SAT, random joints), or None when that module is not available."""
    max_n = check_int(max_n, "max_n")
    try:
        from exactmd.models import zoo
    except ImportError:
        return None
    n = st.integers(2, max(2, max_n))

    def chain(args: tuple[int, np.ndarray, np.ndarray]) -> np.ndarray:
        k, init, trans = args
        return zoo.markov_chain(init, trans / trans.sum(axis=1, keepdims=True), k).numpy()

    chains = st.integers(2, 3).flatmap(
        lambda q: st.tuples(n, joints((q,), zeros=False), joints((q, q), zeros=False))
    )
    options = [
        n.map(lambda k: zoo.parity(k).numpy()),
        st.tuples(_compositions(max_n), st.integers(2, 3)).map(
            lambda a: zoo.block_copy(list(a[0]), a[1]).numpy()
        ),
        chains.map(chain),
        st.tuples(st.integers(3, max(3, max_n)), st.integers(1, 3), st.integers(0, 99)).map(
            lambda a: zoo.random_xorsat(a[0], a[1], 3, a[2]).numpy()
        ),
    ]
    return st.one_of(options)


def models(max_n: int = 4, zeros: bool = True) -> st.SearchStrategy[np.ndarray]:
    """A mix of :func:`joints`, :func:`classic_laws`, :func:`bayesian_networks` and zoo laws."""
    max_n = check_int(max_n, "max_n")
    options = [
        joints(max_n=max_n, zeros=zeros),
        classic_laws(max_n),
        bayesian_networks(max_n=max_n, zeros=zeros),
    ]
    zoo = zoo_laws(max_n)
    if zoo is not None:
        options.append(zoo)
    return st.one_of(options)
