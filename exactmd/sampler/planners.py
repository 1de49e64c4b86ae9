"""Planners of adaptive schedules: the built-in rules and the check of a planner's answer.

A planner (see :mod:`exactmd.sampler.adaptive`) is a callable ``planner(tokens, size, probs)`` that,
at one state of the sampler, receives the current int tokens ``(N,)`` (masked positions hold
``q = max q_i``), the step size ``s`` and the denoiser's probabilities ``(N, q)`` in that
context, and returns one subset (``s`` masked positions) or a mapping ``{subset: weight}`` over
``s``-subsets of the masked positions (weights ``>= 0`` summing to 1 within
:data:`WEIGHT_ATOL`). :func:`planner_choices` checks such an answer.

Built in: :func:`most_confident_planner` and :func:`least_entropy_planner` (ties split
uniformly).

Examples
--------
>>> import numpy as np
>>> probs = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
>>> tokens = np.array([2, 2, 2])
>>> planner_choices(most_confident_planner(tokens, 1, probs), tokens, 1, 2, "most_confident")
[((1,), 1.0)]
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from exactmd._validate import to_integer
from exactmd.errors import ScheduleError, describe

__all__ = [
    "most_confident_planner",
    "least_entropy_planner",
    "planner_choices",
    "WEIGHT_ATOL",
    "Choices",
    "Weights",
]

#: Tolerance on the sum of a planner's weights.
WEIGHT_ATOL = 1e-9
_TIE_DECIMALS = 12  # built-in planners: scores equal after rounding to 12 decimals are ties

Choices = list[tuple[tuple[int, ...], float]]
Weights = dict[tuple[int, ...], float]


def planner_choices(out: Any, tokens: np.ndarray, size: int, q: int, planner_name: str) -> Choices:
    """A planner's answer ``out`` at ``tokens``, validated: ``[(sorted subset, weight > 0)]``.

    Subsets given twice are merged (weights added); subsets of weight 0 are dropped. Raises
    :class:`~exactmd.errors.ScheduleError` naming the planner, the context and the value.

    Examples
    --------
    >>> planner_choices({(2, 0): 0.5, (0, 2): 0.5}, np.array([3, 1, 3]), 2, 3, "mine")
    [((0, 2), 1.0)]
    >>> planner_choices((1,), np.array([3, 1, 3]), 1, 3, "mine")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ScheduleError: planner mine at context tokens [3, 1, 3] (size 1): a subset ...
    """
    where = f"planner {planner_name} at context tokens {tokens.tolist()} (size {size})"
    masked = [i for i in range(len(tokens)) if tokens[i] == q]
    items = list(out.items()) if isinstance(out, Mapping) else [(out, 1.0)]
    if not items:
        raise ScheduleError(f"{where}: returned an empty mapping; needs at least one subset")
    merged: dict[tuple[int, ...], float] = {}
    for subset, weight in items:
        try:
            z = tuple(sorted(to_integer(i) for i in subset))
        except (TypeError, ValueError, OverflowError):
            z = ()
        if len(z) != size or len(set(z)) != size or not set(z) <= set(masked):
            raise ScheduleError(
                f"{where}: a subset must be {size} distinct masked positions (masked: "
                f"{masked}); received {describe(subset)}"
            )
        w = float(weight) if isinstance(weight, numbers.Real) else math.nan
        if not math.isfinite(w) or w < 0:
            raise ScheduleError(
                f"{where}: weights must be finite and >= 0; received {describe(weight)} "
                f"for subset {z}"
            )
        merged[z] = merged.get(z, 0.0) + w
    total = math.fsum(merged.values())
    if abs(total - 1.0) > WEIGHT_ATOL:
        raise ScheduleError(
            f"{where}: weights must sum to 1 within {WEIGHT_ATOL}; they sum to {total!r} "
            f"in {describe(out)}"
        )
    return [(z, w) for z, w in merged.items() if w > 0]


def _ties(tokens: np.ndarray, size: int, score: np.ndarray, q: int) -> Weights:
    """Uniform weight on the ``size``-subsets of masked positions of largest summed score."""
    masked = [i for i in range(len(tokens)) if tokens[i] == q]
    sums = {
        z: round(sum(float(score[i]) for i in z), _TIE_DECIMALS)
        for z in itertools.combinations(masked, size)
    }
    best = max(sums.values())
    winners = [z for z, v in sums.items() if v == best]
    return {z: 1.0 / len(winners) for z in winners}


def most_confident_planner(tokens: np.ndarray, size: int, probs: np.ndarray) -> Weights:
    """Reveal the masked positions whose rows are the most peaked (largest top probability).

    The rule: each ``size``-subset z of the masked positions scores ``Σ_{i∈z} max_v probs[i, v]``
    (summed in increasing position order, then rounded to 12 decimals); the subsets of largest
    score share the weight uniformly (ties split). This is notebook 02's ``peaked_first``.

    Examples
    --------
    >>> probs = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    >>> most_confident_planner(np.array([2, 2, 2]), 1, probs)
    {(1,): 1.0}
    >>> most_confident_planner(np.array([2, 0, 2]), 1, np.full((3, 2), 0.5))
    {(0,): 0.5, (2,): 0.5}
    """
    return _ties(tokens, size, probs.max(axis=1), probs.shape[1])


def least_entropy_planner(tokens: np.ndarray, size: int, probs: np.ndarray) -> Weights:
    """Reveal the masked positions whose rows have the least entropy.

    Each ``size``-subset z scores ``−Σ_{i∈z} H(probs[i])`` (nats, rounded to 12 decimals); the
    subsets of largest score (least total entropy) share the weight uniformly.

    Examples
    --------
    >>> probs = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    >>> least_entropy_planner(np.array([2, 2, 2]), 2, probs)
    {(1, 2): 1.0}
    """
    logs = np.log(np.where(probs > 0, probs, 1.0))
    return _ties(tokens, size, (probs * logs).sum(axis=1), probs.shape[1])
