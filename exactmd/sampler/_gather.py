"""Gather plans of the p_alg recursion: where each target state's predecessors are.

A step of :mod:`exactmd.sampler.p_alg` sends the states of a source level (revealed sets of size a)
to a target level (size b). For a target group and a *pattern* ``r`` (which positions of the
target set are new), every target set ``T`` has one source set ``T`` minus ``r``: its location
in the source level is found from colex ranks (:func:`~exactmd.sampler._levels.removal_ranks`), and
the
row of the denoiser's table that holds ``p(x_t | x_S)`` for the new position ``t`` (the
``j``-th of the pattern) is ``loc · m + base[t, j]`` with ``base[t, j] = T_t − t + j`` and
``m = N − a``. Plans store the locations only (one int64 per set and pattern) and the
``b · s`` offset columns ``base``; rows are formed per chunk where the gathers run (one
addition and one gather per new position).

Examples
--------
>>> import numpy as np
>>> from exactmd.backends import get_backend
>>> from exactmd.sampler._levels import full_level
>>> src, tgt = full_level((2, 2, 2), 1), full_level((2, 2, 2), 2)
>>> plans = gather_plans(get_backend(name="numpy"), 3, src, tgt, 0, 1)
>>> [(pl.pattern, pl.locations.tolist()) for pl in plans]  # sets {0,1}, {0,2}, {1,2}
[((0,), [1, 2, 2]), ((1,), [0, 0, 1])]
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from math import prod
from typing import Any, NamedTuple

import numpy as np

from exactmd.backends import Backend
from exactmd.sampler._levels import Level, removal_ranks

__all__ = ["Patterns", "GatherPlan", "gather_plans", "perm_plan"]

#: New positions of a step: every choice of ``s`` of them (an int) or one tuple of them.
Patterns = int | tuple[int, ...]


class GatherPlan(NamedTuple):
    """Where one pattern's predecessors of a target group's states are (see the module notes).

    Attributes
    ----------
    pattern : tuple of int
        ``r``: the new positions, as indices into the target set.
    source_group : int
        The group of the source level that holds every ``T`` minus ``r``.
    locations : array
        The index of ``T`` minus ``r`` in that source group, one per target set (native index
        array of the backend).
    base : array
        Row offsets ``base[t, j] = T_t − t + j``, shape ``(b, s, number of target sets)``
        (shared by the plans of one target group).
    masked : int
        ``m = N − a``, the masked positions of a source set (the rows per set of its
        conditional table).
    layout : tuple
        :func:`perm_plan`'s (source shape, permutation, target shape) of the product.
    """

    pattern: tuple[int, ...]
    source_group: int
    locations: Any
    base: Any
    masked: int
    layout: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


@lru_cache(maxsize=2**15)
def perm_plan(
    sig_t: tuple[int, ...], r: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """How the product, laid out ``(x_{z_s}, …, x_{z_1}, x_S)``, maps onto the order of T.

    Contiguous runs are merged. Returns the merged source shape, the permutation taking
    source axes to T order, and the merged shape in T order.
    """
    s = len(r)
    rest = [t for t in range(len(sig_t)) if t not in r]
    src_axis = {t: s + i for i, t in enumerate(rest)} | {t: s - 1 - j for j, t in enumerate(r)}
    runs: list[list[int]] = []
    for t in range(len(sig_t)):
        if runs and src_axis[t] == src_axis[runs[-1][-1]] + 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    sizes = [prod(sig_t[t] for t in run) for run in runs]
    by_source = sorted(range(len(runs)), key=lambda i: src_axis[runs[i][0]])
    perm = tuple(by_source.index(i) for i in range(len(runs)))
    return tuple(sizes[i] for i in by_source), perm, tuple(sizes)


def gather_plans(
    be: Backend, n: int, src: Level, tgt: Level, gt: int, patterns: Patterns
) -> list[GatherPlan]:
    """The gather plans from ``src`` into target group ``gt``, one per pattern.

    Parameters
    ----------
    be
        Where the gathers run: the index arrays go there in one copy (a copy from the host
        waits for the device's queue, so one per pattern would stall a GPU).
    n
        Number of variables.
    src, tgt
        Source and target levels.
    gt
        The target group.
    patterns
        An int ``s`` (every choice of ``s`` new positions among the target's) or one tuple of
        new positions.

    Returns
    -------
    list of GatherPlan
        One per pattern ``r``, in the order of ``itertools.combinations``.
    """
    group, m = tgt.groups[gt], n - src.a
    if isinstance(patterns, int):
        choices = [tuple(r) for r in itertools.combinations(range(tgt.a), patterns)]
    else:
        choices = [tuple(int(t) for t in patterns)]
    if not choices:
        return []
    s, n_sets = len(choices[0]), group.sets.shape[0]
    drop = removal_ranks(group.sets, n, s)
    b = tgt.a
    host = np.empty((len(choices) + b * s, n_sets), dtype=np.int64)
    found = []
    for p, r in enumerate(choices):
        gs, host[p] = src.locate_ranks(drop(r))
        found.append((r, int(gs[0])))
    # offsets[t, j] = T_t − t + j: the row offset of new position t when it is the j-th new one
    offsets = (group.sets - np.arange(b)).T[:, None, :] + np.arange(s)[None, :, None]
    host[len(choices) :] = offsets.reshape(b * s, n_sets)
    index = be.as_index(host)
    base = be.reshape(index[len(choices) :], (b, s, n_sets))
    return [
        GatherPlan(r, g, index[p], base, m, perm_plan(group.signature, r))
        for p, (r, g) in enumerate(found)
    ]
