"""LLaDA's ``generate`` (ML-GSAI/LLaDA ``generate.py`` at b7e6c356; SAMPLERS.md §2), exactly.

The N positions are the generation region, cut into blocks of ``block_length`` (one block by
default) with ``steps / num_blocks`` steps each. At the start of a block its masks are counted
(``m_b``) and spread over the block's steps, the remainder on the earliest steps. Each step:

- a value is drawn at every position from ``softmax(log p / T)`` (Gumbel-max; ``T = 0``: the
  argmax, first index on ties);
- ``remasking="low_confidence"`` scores it by the **untempered** probability ``p_j(x0_j)``;
  ``"random"`` by an independent uniform draw;
- the ``k`` best-scored masked positions before the block's end are written.

``"random"`` is value-independent (a uniform ``k``-subset of the block's masks, then
independent values): E_fact and E_learn are defined. ``"low_confidence"`` is
sample-then-select: its exact law comes from the loser-CDF factorisation
(:func:`~exactmd.samplers._select.top_k_moves`), and E_fact is refused.

Examples
--------
>>> import numpy as np, exactmd
>>> p = np.array([[0.4, 0.2], [0.1, 0.3]])
>>> exactmd.output_distribution(p, llada(steps=2, temperature=1.0)).round(4).tolist()
[[0.56, 0.28], [0.04, 0.12]]
>>> exactmd.output_distribution(p, llada(steps=1, temperature=1.0)).round(4).tolist()
[[0.3, 0.3], [0.2, 0.2]]
>>> exactmd.output_distribution(p, llada(steps=2)).tolist()  # T = 0: the argmax path
[[1.0, 0.0], [0.0, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Any

import numpy as np

from exactmd._validate import check_choice, check_int, check_real
from exactmd.errors import ScheduleError
from exactmd.samplers._records import STS, VALUE_INDEPENDENT, Draw, Moves, Plan, StepBatch
from exactmd.samplers._select import (
    check_ties,
    draw_top_k,
    draw_values,
    tempered,
    top_k_moves,
)
from exactmd.samplers.base import SamplerSchedule

__all__ = ["LLaDA", "llada"]


@dataclass(frozen=True, repr=False)
class LLaDA(SamplerSchedule):
    """LLaDA's sampler; build it with :func:`llada`."""

    steps: int
    block_length: int | None = None
    remasking: str = "low_confidence"
    temperature: float = 0.0
    ties: str = "error"

    name = "llada"

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", check_int(self.steps, "steps", error=ScheduleError))
        if self.block_length is not None:
            object.__setattr__(
                self,
                "block_length",
                check_int(self.block_length, "block_length", error=ScheduleError),
            )
        check_choice(self.remasking, "remasking", ("low_confidence", "random"))
        t = check_real(self.temperature, "temperature", minimum=0.0)
        object.__setattr__(self, "temperature", t)
        check_ties(self.ties)

    def __repr__(self) -> str:
        extra = "" if self.block_length is None else f", block_length={self.block_length}"
        tie = "" if self.ties == "error" else f", ties={self.ties!r}"
        return (
            f"llada(steps={self.steps}{extra}, remasking={self.remasking!r}, "
            f"temperature={self.temperature!r}{tie})"
        )

    @property
    def family(self) -> str:
        return VALUE_INDEPENDENT if self.remasking == "random" else STS

    def _blocks(self, n: int) -> tuple[int, int]:
        """(block length, steps per block) for N = ``n``, with LLaDA's assertions."""
        length = n if self.block_length is None else self.block_length
        if n % length:
            raise ScheduleError(
                f"block_length: must divide the generation length N = {n} (LLaDA asserts "
                f"gen_length % block_length == 0); received {length}"
            )
        blocks = n // length
        if self.steps % blocks:
            raise ScheduleError(
                f"steps: must be a multiple of the number of blocks {blocks} (LLaDA asserts "
                f"steps % num_blocks == 0); received {self.steps}"
            )
        return length, self.steps // blocks

    def max_steps(self, n: int) -> int:
        self._blocks(n)
        return self.steps

    def trailing_calls(self, step: int, memory: int) -> int:
        return self.steps - step  # LLaDA makes every step's call, even with nothing to reveal

    def _quota(self, step: int, n: int, tokens: np.ndarray, memory: np.ndarray, mask: int):
        """(block end, k per row, memory per row) at ``step`` for rows ``tokens``."""
        length, per_block = self._blocks(n)
        block, i = divmod(step, per_block)
        end = (block + 1) * length
        if i == 0:  # the block starts: count its masks
            memory = np.sum(tokens[:, block * length : end] == mask, axis=1)
        base, rem = memory // per_block, memory % per_block
        return end, base + (i < rem), memory

    @property
    def shared_masked(self) -> bool:
        # low_confidence batches the states by their number of masks (one top-k law per
        # group of equal candidate alphabets, vectorised over the states)
        return self.remasking == "random"

    def _candidates(self, batch: StepBatch, end: int) -> np.ndarray:
        return batch.masked[batch.masked < end]

    def values(self, batch: StepBatch) -> np.ndarray:
        return tempered(batch.probs, self.temperature)

    def plan(self, batch: StepBatch) -> Plan | None:
        if self.remasking != "random":
            return None
        end, k, mem = self._quota(
            batch.step, batch.n, batch.tokens[:1], np.array([batch.memory]), batch.mask
        )
        kk, cand = int(k[0]), self._candidates(batch, end)
        subsets = list(combinations(cand.tolist(), min(kk, len(cand))))
        rows = len(batch.tokens)
        reveal = np.zeros((rows * len(subsets), batch.n), dtype=bool)
        for s, z in enumerate(subsets):
            reveal[np.ix_(np.arange(rows) * len(subsets) + s, list(z))] = True
        w = np.full(rows * len(subsets), 1.0 / comb(len(cand), min(kk, len(cand))))
        return Plan(np.repeat(np.arange(rows), len(subsets)), reveal, w, int(mem[0]))

    def moves(self, batch: StepBatch) -> Moves:
        if self.remasking == "random":
            return super().moves(batch)
        end, k, mem = self._quota(
            batch.step, batch.n, batch.tokens[:1], np.array([batch.memory]), batch.mask
        )
        cand = (batch.tokens == batch.mask) & (np.arange(batch.n)[None, :] < end)
        return top_k_moves(
            batch,
            cand,  # each row's masked positions in the block
            int(k[0]),
            self.values(batch),
            batch.probs,  # the untempered probability of the drawn value
            self.ties,
            repr(self),
            int(mem[0]),
        )

    def draw(
        self,
        step: int,
        memory: np.ndarray,
        tokens: np.ndarray,
        probs: np.ndarray,
        shape: tuple[int, ...],
        rng: np.random.Generator,
    ) -> Draw:
        n, mask = tokens.shape[1], max(shape)
        end, k, memory = self._quota(step, n, tokens, memory, mask)
        x0 = draw_values(probs, self.temperature, rng)
        if self.remasking == "low_confidence":
            conf = np.take_along_axis(probs, x0[:, :, None], axis=2)[:, :, 0]
        else:
            conf = rng.random(x0.shape)
        cand = (tokens == mask) & (np.arange(n)[None, :] < end)
        conf = np.where(cand, conf, -np.inf)
        keep = draw_top_k(conf, np.minimum(k, cand.sum(axis=1)), self.ties, rng, repr(self))
        return Draw(np.where(keep, x0, tokens), memory, np.ones(len(tokens), dtype=np.int64))


def llada(
    steps: Any,
    block_length: Any = None,
    remasking: str = "low_confidence",
    temperature: Any = 0.0,
    *,
    ties: str = "error",
) -> LLaDA:
    """LLaDA's ``generate`` as a schedule (see the module notes).

    Parameters
    ----------
    steps
        Total number of steps (a multiple of the number of blocks).
    block_length
        Semi-autoregressive block length (dividing N); None for one block.
    remasking
        ``"low_confidence"`` (keep the most confident draws) or ``"random"``.
    temperature
        ``T >= 0`` of the value draw (the confidence stays untempered); 0 is the argmax.
    ties
        ``"error"`` raises :class:`~exactmd.errors.TieError` on a tie of positive
        probability in a selection; ``"split"`` splits it uniformly (``torch.topk`` does not
        document its choice).

    Examples
    --------
    >>> llada(4, block_length=2)
    llada(steps=4, block_length=2, remasking='low_confidence', temperature=0.0)
    """
    return LLaDA(steps, block_length, remasking, temperature, ties)
