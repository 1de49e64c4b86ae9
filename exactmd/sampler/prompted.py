"""Prompts for the schedule kinds of the theory: the run on the free positions, embedded back.

A prompt ``{position: value}`` (:mod:`exactmd.law.prompt`) fixes some positions as revealed
before the sampler starts. The samplers of :mod:`exactmd.samplers` take it themselves (their
hooks receive ``prompt=``, and run on the free positions as the public code runs on its
generation region after the prompt, through the same :class:`Reduction`). For the kinds
of the theory (exchangeable sizes, a deterministic partition, random reveal) and
:class:`~exactmd.sampler.adaptive.AdaptiveSchedule`, **the schedule covers the free
positions** F (those the prompt leaves masked, ``M = N − |prompt|`` of them):

- exchangeable sizes sum to ``M``; the subsets are uniform among the masked free positions;
- a deterministic partition is a partition of F, in the positions of the full sequence;
- random reveal reveals each masked free position with probability ``r_k`` at step k;
- an adaptive schedule's sizes sum to ``M``; its planner sees the full-length tokens (prompt
  filled in) and the probabilities ``(N, q)`` (the prompt's rows are the one-hots of its
  values), and must answer with masked free positions.

The computation is a reduction (:class:`Reduction`): the sampler runs on the law of the free
positions given the prompt, ``π(x_F | x_prompt)``, with the denoiser seeing the prompt (π's
exact conditionals given the prompt by default; a user denoiser is called on full-length
tokens with the prompt filled in and its rows at F are used), and the result is embedded back
into the full shape: the law is zero off the prompt, and samples carry the prompt's values.
That is the sampler with the prompt's positions revealed beforehand, so p_alg is compared with
:func:`~exactmd.law.conditional.conditional_law`. A prompt of probability 0 under π is refused,
as is one that leaves no free position (nothing to sample) or a kind of another sort.

Examples
--------
>>> import numpy as np
>>> p = np.array([[[0.1, 0.1], [0.0, 0.2]], [[0.2, 0.1], [0.2, 0.1]]])
>>> red = Reduction.of(p, {1: 1})
>>> red.free, red.law.shape
((0, 2), (2, 2))
>>> red.law.numpy().round(4).tolist()  # π(x_0, x_2 | x_1 = 1)
[[0.0, 0.4], [0.4, 0.2]]
>>> red.schedule([[2], [0]])  # a partition of the free positions, renumbered
DeterministicSchedule(partition=((1,), (0,)))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from exactmd.denoisers.calls import check_denoiser_law, denoiser_rows
from exactmd.denoisers.exact import as_denoiser
from exactmd.errors import ScheduleError, ValidationError
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.law.prompt import Prompt, as_prompt, prompt_mass, prompt_tokens
from exactmd.schedules.custom import is_core_schedule
from exactmd.schedules.kinds import Schedule, parse_schedule

__all__ = [
    "Reduction",
    "takes_prompt",
    "prompted_output_distribution",
    "prompted_sample",
]


def takes_prompt(schedule: Any, hook: str) -> bool:
    """Whether ``schedule`` is a kind whose method ``hook`` takes a ``prompt`` argument itself
    (the samplers of :mod:`exactmd.samplers`); the other kinds go through :class:`Reduction`.

    Examples
    --------
    >>> takes_prompt([1, 1], "output_distribution")
    False
    """
    if not isinstance(schedule, Schedule) or is_core_schedule(schedule):
        return False
    method = getattr(schedule, hook, None)
    if not callable(method):
        return False
    try:
        return "prompt" in inspect.signature(method).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return False


@dataclass(frozen=True)
class Reduction:
    """A law and a prompt seen from the free positions (see the module notes).

    Attributes
    ----------
    full
        The law π over all N positions.
    prompt
        The validated prompt (sorted ``(position, value)`` pairs, at least one).
    free
        The free positions F, increasing; position ``free[j]`` of the full sequence is
        position ``j`` of the reduced one.
    law
        ``π(x_F | x_prompt)`` on π's backend and dtype.
    """

    full: Distribution
    prompt: Prompt
    free: tuple[int, ...]
    law: Distribution

    @classmethod
    def of(cls, p: Any, prompt: Any) -> Reduction:
        """Validate ``prompt`` against ``p`` and build the reduced law.

        Raises :class:`~exactmd.errors.ValidationError` naming ``prompt`` for a malformed or
        empty prompt, one of probability 0 under π, or one that fixes every position.
        """
        d = as_distribution(p)
        pr = as_prompt(prompt, d.shape)
        if not pr:
            raise ValidationError(f"prompt: must fix at least one position; received {prompt!r}")
        if prompt_mass(d.numpy(), pr) <= 0.0:
            raise ValidationError(
                f"prompt: has probability 0 under p, so no run is defined; received {dict(pr)}"
            )
        fixed = {pos for pos, _ in pr}
        free = tuple(i for i in range(d.n) if i not in fixed)
        if not free:
            raise ValidationError(
                f"prompt: fixes every position (N = {d.n}), so the schedule has no position to "
                f"reveal; received {dict(pr)}"
            )
        part = d.table[cls._index(d.n, pr)]
        table = part / part.sum()
        if isinstance(table, np.ndarray):
            table.setflags(write=False)
        law = Distribution(
            table,
            d.backend,
            [d.names[i] for i in free],
            [d.state_names[i] for i in free],
        )
        return cls(d, pr, free, law)

    @staticmethod
    def _index(n: int, prompt: Prompt) -> tuple[Any, ...]:
        index: list[Any] = [slice(None)] * n
        for pos, val in prompt:
            index[pos] = val
        return tuple(index)

    @property
    def rank(self) -> dict[int, int]:
        """``{full position: reduced position}`` of the free positions."""
        return {pos: j for j, pos in enumerate(self.free)}

    def full_tokens(self, tokens: np.ndarray) -> np.ndarray:
        """Reduced tokens ``(B, M)`` (mask ``max q_F``) as full ones ``(B, N)`` (mask
        ``max q``), the prompt filled in."""
        t = np.asarray(tokens, dtype=np.int64)
        out = prompt_tokens(self.prompt, self.full.shape, len(t))
        out[:, list(self.free)] = np.where(t == self.law.q, self.full.q, t)
        return out

    def embed_law(self, law: Any) -> np.ndarray:
        """A law over the free positions as one over the full shape, zero off the prompt."""
        arr = np.asarray(law)
        out = np.zeros(self.full.shape, dtype=arr.dtype)
        out[self._index(self.full.n, self.prompt)] = arr
        return out

    def embed_samples(self, samples: Any) -> np.ndarray:
        """Samples ``(M', len(free))`` of the free positions as full rows with the prompt."""
        x = np.asarray(samples, dtype=np.int64)
        out = prompt_tokens(self.prompt, self.full.shape, len(x))
        out[:, list(self.free)] = x
        return out

    def denoiser(self, denoiser: Any) -> Any:
        """The denoiser of the reduced run: None (π's exact conditionals given the prompt, the
        reduced law's own) for None; else ``denoiser`` called on full-length tokens with the
        prompt filled in, its checked rows at the free positions."""
        if denoiser is None:
            return None
        check_denoiser_law(denoiser, self.full.shape)  # before any work
        return as_denoiser(_FreeDenoiser(denoiser, self), tokens="numpy")

    def schedule(self, schedule: Any) -> Schedule:
        """``schedule`` (over the free positions, see the module notes) as a validated schedule
        of the reduced law, by its kind's ``on_free_positions``; a
        :class:`~exactmd.errors.ScheduleError` says what it must cover."""
        sched = parse_schedule(schedule)
        try:
            return sched.on_free_positions(self)
        except ScheduleError as exc:
            if "prompt" in str(exc):  # the kind's own message already says what to cover
                raise
            raise self._context(exc) from exc

    def _context(self, exc: ScheduleError) -> ScheduleError:
        k, m = len(self.prompt), len(self.free)
        return ScheduleError(
            f"{exc} (with a prompt the schedule covers the free positions: N − |prompt| = "
            f"{self.full.n} − {k} = {m}, positions {list(self.free)})"
        )


class _FreeDenoiser:
    """A user denoiser seen from the free positions (see :meth:`Reduction.denoiser`)."""

    def __init__(self, denoiser: Any, red: Reduction) -> None:
        self.den, self.red = denoiser, red
        self.__name__ = str(getattr(denoiser, "__name__", type(denoiser).__name__))

    def __call__(self, tokens: Any) -> np.ndarray:
        red = self.red
        rows = denoiser_rows(self.den, red.full_tokens(tokens), red.full)
        return rows[:, list(red.free), : red.law.q]


def prompted_output_distribution(
    d: Distribution,
    schedule: Any,
    denoiser: Any,
    prompt: Any,
    run: Callable[..., Any],
    *,
    native: bool = False,
    progress: Any = None,
) -> Any:
    """p_alg under ``prompt`` by the reduction: ``run`` (the core ``output_distribution``) on
    the free positions, embedded back (see the module notes). An empty prompt runs as is."""
    if not as_prompt(prompt, d.shape):
        return run(d, schedule, denoiser, native=native, progress=progress)
    red = Reduction.of(d, prompt)
    sched = red.schedule(schedule)
    law = red.embed_law(run(red.law, sched, red.denoiser(denoiser), progress=progress))
    return d.backend.asarray(law) if native else law


def prompted_sample(
    d: Distribution,
    schedule: Any,
    n: Any,
    denoiser: Any,
    seed: Any,
    prompt: Any,
    run: Callable[..., Any],
) -> np.ndarray:
    """``n`` prompted outputs by the reduction: ``run`` (the core ``sample``) on the free
    positions, the prompt's values filled in. An empty prompt runs as is."""
    if not as_prompt(prompt, d.shape):
        return np.asarray(run(d, schedule, n, denoiser, seed))
    red = Reduction.of(d, prompt)
    sched = red.schedule(schedule)
    return red.embed_samples(run(red.law, sched, n, red.denoiser(denoiser), seed))
