"""π's terms of one step of a walk under π, for many states at once.

A walk under π (the adaptive planners' E_fact / E_learn in :mod:`exactmd.sampler.adaptive`, and
the value-independent samplers' in :mod:`exactmd.samplers._engine`) moves the mass of a state
``(S, x_S)`` revealing a planned subset ``z`` of its masked set ``M`` by π's joint conditional
``π(x_z | x_S)``, and adds

- ``TC_π(z | x_S) = KL(π(x_z | x_S) ‖ Π_{i∈z} π(x_i | x_S))`` to E_fact, and
- ``Σ_{i∈z} KL(π(x_i | x_S) ‖ q_i)`` to E_learn, ``q_i`` the rule's value law of position ``i``
  at that state (the denoiser's row for the adaptive planners).

:func:`pi_terms` computes the three for a batch of states sharing ``M`` and planned rows
``(state, z)``: π's conditional tables of the states are gathered from the law's table by one
advanced index (the revealed axes moved first), and the rows are grouped by ``z``, each group
computed as whole arrays. KL uses ``0 log 0 = 0`` and is ``+inf`` where the first law is
positive and the second is not.

Examples
--------
>>> import numpy as np
>>> table = np.array([[0.5, 0.0], [0.0, 0.5]])
>>> tokens = np.array([[2, 2]])  # both masked (mask value max q_i = 2)
>>> values = np.full((1, 2, 2), 0.5)
>>> [(g.z, g.joint.tolist(), g.tc.round(6).tolist(), g.kl.tolist())
...  for g in pi_terms(table, tokens, np.array([0]), np.array([[True, True]]), values)]
[((0, 1), [[0.5, 0.0, 0.0, 0.5]], [0.693147], [0.0])]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PiTermGroup", "pi_terms", "kl_rows"]


@dataclass(frozen=True)
class PiTermGroup:
    """The planned rows of one subset ``z`` and their π terms.

    Attributes
    ----------
    z
        The revealed positions, increasing (empty: the rows reveal nothing).
    rows
        int64 ``(R,)``: the indices of these rows in the planned rows given to
        :func:`pi_terms`, increasing.
    joint
        float64 ``(R, C)``: ``π(x_z | x_S)`` of each row's state, ``C = Π_{i∈z} q_i``
        assignments in row-major order of ``z`` (``np.indices`` order; ``C = 1`` and the
        value 1 for an empty ``z``).
    tc
        float64 ``(R,)``: ``TC_π(z | x_S)`` (0 for ``|z| <= 1``).
    kl
        float64 ``(R,)``: ``Σ_{i∈z} KL(π(x_i | x_S) ‖ q_i)``, possibly ``inf``.
    """

    z: tuple[int, ...]
    rows: np.ndarray
    joint: np.ndarray
    tc: np.ndarray
    kl: np.ndarray


def kl_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``KL(a[r] ‖ b[r])`` for every row ``r`` of two float ``(R, C)`` arrays.

    ``0 log 0 = 0``; a row is ``inf`` where ``a`` is positive and ``b`` is not.

    Examples
    --------
    >>> kl_rows(np.array([[0.5, 0.5], [1.0, 0.0]]), np.array([[0.5, 0.5], [0.0, 1.0]])).tolist()
    [0.0, inf]
    """
    pos = a > 0
    ok = pos & (b > 0)
    ratio = np.divide(a, b, out=np.ones_like(a), where=ok)
    terms = np.multiply(a, np.log(ratio), out=np.zeros_like(a), where=ok)
    out = terms.sum(axis=1)
    out[np.any(pos & ~ok, axis=1)] = np.inf
    return out


def _conditionals(table: np.ndarray, tokens: np.ndarray, masked: np.ndarray) -> np.ndarray:
    """π(x_M | x_S) of the rows of ``tokens`` (all masked on ``masked``): ``(B, *q_M)``."""
    n = table.ndim
    revealed = np.setdiff1d(np.arange(n), masked)
    moved = np.transpose(table, (*revealed.tolist(), *masked.tolist()))
    if len(revealed):
        joint = moved[tuple(tokens[:, i] for i in revealed)]
    else:  # nothing revealed: every row is the all-masked state
        joint = np.repeat(moved[None], len(tokens), axis=0)
    total = joint.reshape(len(joint), -1).sum(axis=1)
    return joint / total.reshape((-1,) + (1,) * len(masked))  # π(x_S) > 0 on a walk


def pi_terms(
    table: np.ndarray,
    tokens: np.ndarray,
    source: np.ndarray,
    reveal: np.ndarray,
    values: np.ndarray,
) -> list[PiTermGroup]:
    """π's successor weights, TC and KL of planned rows of states sharing their masked set.

    Parameters
    ----------
    table
        π's float64 table, of the law's shape ``(q_1, ..., q_N)``.
    tokens
        int ``(B, N)``: the states, every one masked (value ``max q_i``) on the same positions
        ``M``; each state a row of π of positive mass ``π(x_S)``.
    source
        int ``(R,)``: the state of each planned row (an index into ``tokens``).
    reveal
        bool ``(R, N)``: the planned subset ``z ⊆ M`` of each row.
    values
        float ``(B, N, q)``: the rule's value law of each state; row ``i`` is read on its first
        ``q_i`` entries, and only for ``i`` in a planned ``z``.

    Returns
    -------
    list of PiTermGroup
        One per distinct subset, in increasing order of its bit code ``Σ_{i∈z} 2^i``.
    """
    shape = table.shape
    n = len(shape)
    mask = max(shape)
    source = np.asarray(source, dtype=np.int64).reshape(-1)
    reveal = np.asarray(reveal, dtype=bool).reshape(len(source), n)
    if len(source) == 0:
        return []
    masked = np.flatnonzero(tokens[0] == mask)
    used, local = np.unique(source, return_inverse=True)
    cond = _conditionals(table, tokens[used], masked)  # one table per state used
    axis = {int(i): a + 1 for a, i in enumerate(masked)}  # axis 0: the states
    bits = reveal.astype(np.int64) @ (1 << np.arange(n, dtype=np.int64))
    out = []
    for code in np.unique(bits):
        rows = np.flatnonzero(bits == code)
        z = tuple(int(i) for i in np.flatnonzero(reveal[rows[0]]))
        states = local[rows]
        jz = cond[states].sum(axis=tuple(a for i, a in axis.items() if i not in z))
        count = len(rows)
        tc, kl = np.zeros(count), np.zeros(count)
        if z:
            k = len(z)
            margs = [jz.sum(axis=tuple(a + 1 for a in range(k) if a != j)) for j in range(k)]
            prod = margs[0]
            for m in margs[1:]:  # Π_{i∈z} π(x_i | x_S), multiplied left to right
                prod = prod[..., None] * m.reshape((count,) + (1,) * (prod.ndim - 1) + (-1,))
            tc = kl_rows(jz.reshape(count, -1), prod.reshape(count, -1))
            padded = np.zeros((count, k, values.shape[2]))  # zeros past q_i: no KL terms
            for j, i in enumerate(z):
                padded[:, j, : shape[i]] = margs[j]
            vals = values[source[rows]][:, list(z), :]
            kl = kl_rows(padded.reshape(count * k, -1), vals.reshape(count * k, -1))
            kl = kl.reshape(count, k).sum(axis=1)
        out.append(PiTermGroup(z, rows, jz.reshape(count, -1), tc, kl))
    return out
