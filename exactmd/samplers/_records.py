"""The records a sampler step exchanges with the engine (see :mod:`exactmd.samplers.base`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["StepBatch", "Moves", "Plan", "Draw", "STS", "VALUE_INDEPENDENT"]

#: ``family`` of samplers whose positions depend on the drawn values (no E_fact).
STS = "sample-then-select"
#: ``family`` of samplers whose positions are chosen before the values are drawn.
VALUE_INDEPENDENT = "value-independent"


@dataclass(frozen=True)
class StepBatch:
    """States of the exact run that share the step, the memory and (usually) the masked set.

    Attributes
    ----------
    step
        The step index t (0-based): the number of denoiser rounds made before this one.
    memory
        The rule's integer memory, shared by the batch.
    tokens
        int64 ``(B, N)``, read-only; masked positions hold ``mask = q = max q_i``.
    probs
        float64 ``(B, N, q)``, read-only: the denoiser's rows at ``tokens`` (meaningful at the
        masked positions; entries ``>= q_i`` are 0).
    masked
        The positions masked in every row, sorted: each row's masked set for a rule that
        shares it (``shared_masked``, the default); a rule with ``shared_masked = False``
        receives the rows that share the step, the memory and the number of masks, and reads
        each row's own masked set from ``tokens == mask``.
    shape
        The alphabets ``(q_1, …, q_N)``.
    """

    step: int
    memory: int
    tokens: np.ndarray
    probs: np.ndarray
    masked: np.ndarray
    shape: tuple[int, ...]

    @property
    def mask(self) -> int:
        """The mask value ``q = max q_i``."""
        return max(self.shape)

    @property
    def n(self) -> int:
        """N, the number of positions."""
        return len(self.shape)


@dataclass(frozen=True)
class Moves:
    """Successors of the states of a :class:`StepBatch`, with their probabilities.

    ``source[r]`` is the batch row of move ``r``, ``tokens[r]`` its successor tokens and
    ``weight[r]`` its probability; the weights of each source sum to 1 (within 1e-9), zero
    weights are allowed. ``memory`` and ``calls`` (the denoiser calls this step makes, usually
    1) are an int for every move or an int array ``(R,)``.
    """

    source: np.ndarray
    tokens: np.ndarray
    weight: np.ndarray
    memory: Any = 0
    calls: Any = 1


@dataclass(frozen=True)
class Plan:
    """The positions a value-independent step reveals, for each state of a batch.

    ``source[r]`` is the batch row, ``reveal[r]`` a bool ``(N,)`` subset of its masked
    positions (possibly empty) and ``weight[r]`` its probability (summing to 1 per source).
    ``memory`` and ``calls`` as in :class:`Moves`.
    """

    source: np.ndarray
    reveal: np.ndarray
    weight: np.ndarray
    memory: Any = 0
    calls: Any = 1


@dataclass(frozen=True)
class Draw:
    """One drawn step on rows of a Monte Carlo run: new tokens, memory and calls per row."""

    tokens: np.ndarray
    memory: np.ndarray
    calls: np.ndarray
