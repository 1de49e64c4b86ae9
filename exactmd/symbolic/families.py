"""Parametric families of symbolic laws: the general law, two pairs and the block copy.

Examples
--------
>>> from exactmd.measures.information import complexity
>>> complexity(block_copy_law([[0, 1], [2]], 2))
2*log(2)/3
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from exactmd.errors import ValidationError, describe

__all__ = ["general_law", "symmetric_pair", "ising_pair", "block_copy_law"]


def general_law(shape: Sequence[int], symbol: str = "p") -> Any:
    """The general law on ``shape``: free positive parameters, the last entry 1 − Σ others.

    The parameters are ``sympy.symbols(f"{symbol}0:{M - 1}", positive=True)`` with
    ``M = Π q_i``, laid out in C order; the last entry is ``1 − Σ`` of them.

    Examples
    --------
    >>> general_law((2, 2))
    [[p0, p1], [p2, -p0 - p1 - p2 + 1]]
    """
    import sympy as sp

    shape = tuple(int(s) for s in shape)
    size = int(np.prod(shape, dtype=np.int64))
    if not shape or size < 1:
        raise ValidationError(f"shape: must be a non-empty tuple of sizes >= 1; received {shape}")
    params = list(sp.symbols(f"{symbol}0:{size - 1}", positive=True)) if size > 1 else []
    entries = [*params, 1 - sp.Add(*params)]
    return sp.Array(entries, shape)


def symmetric_pair(t: Any = None) -> Any:
    """Two binary variables, uniform marginals, correlation ``t``: ``π(x, y) = (1 ± t)/4``.

    The default ``t`` is ``sympy.Symbol("t", real=True)``; it is a law for ``-1 <= t <= 1``.

    Examples
    --------
    >>> symmetric_pair()
    [[t/4 + 1/4, 1/4 - t/4], [1/4 - t/4, t/4 + 1/4]]
    """
    import sympy as sp

    t = sp.Symbol("t", real=True) if t is None else sp.sympify(t)
    same, diff = (1 + t) / 4, (1 - t) / 4
    return sp.Array([[same, diff], [diff, same]])


def ising_pair(coupling: Any = None, field: Any = 0) -> Any:
    """Two ±1 spins ``s = 2x − 1`` with ``π(x, y) ∝ exp(J s_x s_y + h (s_x + s_y))``.

    The default coupling is ``sympy.Symbol("J", real=True)``; ``field`` is ``h`` (0 by
    default). Every entry is provably positive, so no assumption is needed.

    Examples
    --------
    >>> law = ising_pair()
    >>> law[0, 0]
    exp(J)/(2*exp(J) + 2*exp(-J))
    """
    import sympy as sp

    j = sp.Symbol("J", real=True) if coupling is None else sp.sympify(coupling)
    h = sp.sympify(field)
    weights = [
        [sp.exp(j * (2 * x - 1) * (2 * y - 1) + h * (2 * x + 2 * y - 2)) for y in (0, 1)]
        for x in (0, 1)
    ]
    z = sp.Add(*(w for row in weights for w in row))
    return sp.Array([[w / z for w in row] for row in weights])


def block_copy_law(partition: Sequence[Sequence[int]], q: int = 2) -> Any:
    """The block-copy law: equal values inside each block, blocks independent and uniform.

    ``π(x) = q^{−K}`` when ``x`` is constant on each of the ``K`` blocks of ``partition`` (an
    ordered partition of ``range(N)``), else 0.

    Examples
    --------
    >>> block_copy_law([[0, 1]], 2)
    [[1/2, 0], [0, 1/2]]
    """
    import sympy as sp

    blocks = [tuple(int(i) for i in b) for b in partition]
    n = sum(len(b) for b in blocks)
    if sorted(i for b in blocks for i in b) != list(range(n)) or any(not b for b in blocks):
        raise ValidationError(
            f"partition: must be an ordered partition of range(N) into non-empty blocks; "
            f"received {describe(partition)}"
        )
    if int(q) < 1:
        raise ValidationError(f"q: must be an alphabet size >= 1; received {describe(q)}")
    table = np.full((int(q),) * n, sp.Integer(0), dtype=object)
    weight = sp.Rational(1, int(q) ** len(blocks))
    for values in itertools.product(range(int(q)), repeat=len(blocks)):
        x = [0] * n
        for block, v in zip(blocks, values):
            for i in block:
                x[i] = v
        table[tuple(x)] = weight
    return sp.Array(table.tolist())
