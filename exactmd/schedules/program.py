"""Level programs: what a schedule kind does, as moves of the sampler's state between levels
of revealed sets, step by step.

The exact engine (:func:`exactmd.sampler.p_alg.output_distribution`), its memory plan, E_learn,
the Monte Carlo sampler and the oracle's per-step breakdown consume these records and never
look at the kind: each kind of :mod:`exactmd.schedules.kinds` says what it does through
``level_program(n)``, ``context_weights(n)`` and ``reveal(...)``.

Examples
--------
>>> LevelMove(0, 2, 2, 1 / 3).target, revealed_count((0, 4))
(2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LevelMove", "LevelProgram", "ContextWeight", "Revealed", "revealed_count"]


#: A revealed set in a level program: its size (any set of that size, for the kinds whose
#: positions are exchangeable) or the set itself, sorted (for a fixed partition).
Revealed = int | tuple[int, ...]


def revealed_count(revealed: Revealed | int) -> int:
    """How many positions a :data:`Revealed` (or a move's ``new``) stands for.

    Examples
    --------
    >>> revealed_count(3), revealed_count((0, 4))
    (3, 2)
    """
    return len(revealed) if isinstance(revealed, tuple) else int(revealed)


@dataclass(frozen=True)
class LevelMove:
    """Mass of the sampler's state moving from the revealed sets ``source`` to ``target``.

    ``new`` is how many positions are revealed (every pattern of that many among the masked
    ones, each with probability ``weight``) or which ones (a tuple, probability ``weight``);
    ``new == 0`` means the state stays where it is, scaled by ``weight``.
    """

    source: Revealed
    target: Revealed
    new: int | tuple[int, ...]
    weight: float


@dataclass(frozen=True)
class LevelProgram:
    """What a schedule kind does, as moves between levels of revealed sets, step by step.

    The exact engine (:func:`exactmd.sampler.p_alg.output_distribution`), its memory plan and
    the test oracle consume this and never look at the kind. ``keeps_levels`` says that the
    state spreads over every level and lives across steps (random reveal); otherwise each
    step moves all the mass from one level to the next.
    """

    steps: tuple[tuple[LevelMove, ...], ...]
    final: Revealed
    keeps_levels: bool = False


@dataclass(frozen=True)
class ContextWeight:
    """For E_learn: the contexts on ``revealed`` sets weigh ``coefficient`` per masked position
    (spread evenly over the sets of that size), or, for a fixed set, ``positions`` are the
    ones revealed from it (weight 1 each)."""

    revealed: Revealed
    coefficient: float = 1.0
    positions: tuple[int, ...] | None = None
