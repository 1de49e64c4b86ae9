"""Small helpers shared by the test files (import as ``from helpers import ...``).

Examples
--------
>>> xor_law().sum(), xor_law()[1, 1, 0]
(np.float64(1.0), np.float64(0.25))
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import strategies as st

__all__ = ["TOL", "LOG2", "random_law", "laws", "xor_law", "block_copy", "compositions"]

#: Agreement required between exact paths and the brute force (float64 rounding only).
TOL = 1e-12
LOG2 = math.log(2)


def random_law(
    shape: tuple[int, ...], seed: int = 0, zeros: float = 0.3, alpha: float = 1.0
) -> np.ndarray:
    """A Dirichlet random joint with about a fraction ``zeros`` of exact zeros."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(int(np.prod(shape)), alpha)).reshape(shape)
    if zeros > 0:
        mask = rng.random(shape) < zeros
        if mask.all():
            mask.flat[0] = False
        p = np.where(mask, 0.0, p)
    return p / p.sum()


@st.composite
def laws(draw: st.DrawFn, max_n: int = 5) -> np.ndarray:
    """Random joints with zeros: N in 2..max_n, alphabets 2..3 (mixed), some very peaked."""
    shape = tuple(draw(st.lists(st.integers(2, 3), min_size=2, max_size=max_n)))
    seed = draw(st.integers(0, 2**31 - 1))
    zeros = draw(st.sampled_from([0.0, 0.3, 0.7]))
    alpha = draw(st.sampled_from([0.1, 1.0]))
    return random_law(shape, seed=seed, zeros=zeros, alpha=alpha)


def xor_law() -> np.ndarray:
    """XOR of two fair bits (docs/design.md, "Known answers"): ``x_2 = x_0 ^ x_1``."""
    p = np.zeros((2, 2, 2))
    for a, b in itertools.product((0, 1), repeat=2):
        p[a, b, a ^ b] = 0.25
    return p


def block_copy(q: int, blocks: list[int]) -> np.ndarray:
    """x_i = x_j inside each block, blocks independent and uniform on range(q)."""
    n = sum(blocks)
    p = np.zeros((q,) * n)
    for values in itertools.product(range(q), repeat=len(blocks)):
        x = [v for v, s in zip(values, blocks) for _ in range(s)]
        p[tuple(x)] = 1.0 / q ** len(blocks)
    return p


def compositions(n: int) -> list[tuple[int, ...]]:
    """All size sequences (s_1, …, s_K) with s_k >= 1 summing to n (2^(n-1) of them).

    >>> compositions(3)
    [(1, 1, 1), (1, 2), (2, 1), (3,)]
    """
    out = []
    for cuts in itertools.product([0, 1], repeat=n - 1):
        sizes, run = [], 1
        for c in cuts:
            if c:
                sizes.append(run)
                run = 1
            else:
                run += 1
        out.append((*sizes, run))
    return sorted(out)
