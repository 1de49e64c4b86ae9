"""Schedule kinds the core recursion does not know compute their own quantities.

The core modules handle the three kinds of :mod:`exactmd.schedules.kinds` themselves (exchangeable,
deterministic, random reveal). Any other :class:`~exactmd.schedules.kinds.Schedule` (for example
:class:`~exactmd.sampler.adaptive.AdaptiveSchedule`) provides methods, which the core modules call
through :func:`schedule_method`:

- ``output_distribution(d, denoiser, *, native)``: p_alg, as
  :func:`~exactmd.sampler.p_alg.output_distribution` returns it;
- ``learning_error(d, denoiser)``: E_learn in nats (``denoiser`` None means π's exact
  conditionals; a kind whose values come from them unchanged returns 0.0 then);
- ``factorization_error(d, denoiser=None)``: E_fact in nats, a planner seeing ``denoiser``'s
  probabilities (π's exact ones when None; the argument is only passed when not None);
- ``reveal(step, tokens, d, denoiser, rng)``: the positions each row of the int tokens
  ``(B, N)`` reveals at ``step``, a bool ``(B, N)`` array (for
  :func:`exactmd.sampler.montecarlo.sample`).

``d`` is a validated numeric :class:`~exactmd.law.distribution.Distribution`.
:class:`CustomSchedule`
is a base class whose methods all refuse; a kind overrides those it supports. A kind without
the method raises :class:`~exactmd.errors.ScheduleError` ("unsupported schedule kind").

Examples
--------
>>> from exactmd.schedules.kinds import ExchangeableSchedule
>>> is_core_schedule(ExchangeableSchedule((1, 1)))
True
>>> class Mine(CustomSchedule):
...     num_steps = 1
...     def validate(self, n):
...         return self
...     def __repr__(self):
...         return "Mine()"
>>> from exactmd.sampler.p_alg import output_distribution
>>> output_distribution([0.5, 0.5], Mine())  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
exactmd.errors.ScheduleError: schedule: unsupported schedule kind (...); received Mine()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from exactmd.errors import ScheduleError
from exactmd.law.distribution import Distribution
from exactmd.schedules.kinds import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    Schedule,
)

__all__ = ["CORE_SCHEDULES", "CustomSchedule", "is_core_schedule", "schedule_method"]

#: The kinds the core recursions handle themselves.
CORE_SCHEDULES = (ExchangeableSchedule, DeterministicSchedule, RandomRevealSchedule)


def is_core_schedule(sched: Any) -> bool:
    """Whether the core recursions know ``sched``'s kind (see :data:`CORE_SCHEDULES`)."""
    return isinstance(sched, CORE_SCHEDULES)


def _unsupported(sched: Any, name: str) -> ScheduleError:
    return ScheduleError(
        "schedule: unsupported schedule kind (the core computations know exchangeable, "
        f"deterministic and random-reveal schedules; any other kind must provide {name}); "
        f"received {sched!r}"
    )


def schedule_method(sched: Any, name: str) -> Callable[..., Any]:
    """The method ``name`` of a schedule kind the core does not know, or a ScheduleError.

    Examples
    --------
    >>> from exactmd.sampler.adaptive import AdaptiveSchedule
    >>> from exactmd.sampler.planners import most_confident_planner
    >>> schedule_method(AdaptiveSchedule((1,), most_confident_planner), "reveal").__name__
    'reveal'
    """
    method = getattr(sched, name, None)
    if not callable(method):
        raise _unsupported(sched, name)
    return method  # type: ignore[no-any-return]


class CustomSchedule(Schedule):
    """Base class of schedule kinds that compute their own quantities (see the module notes).

    Every method refuses with :class:`~exactmd.errors.ScheduleError`; a kind overrides those
    it supports.
    """

    def output_distribution(
        self, d: Distribution, denoiser: Any = None, *, native: bool = False
    ) -> Any:
        """p_alg of this kind (what :func:`~exactmd.sampler.p_alg.output_distribution` returns)."""
        raise _unsupported(self, "output_distribution")

    def learning_error(self, d: Distribution, denoiser: Any) -> float:
        """E_learn of ``denoiser`` under this kind, in nats."""
        raise _unsupported(self, "learning_error")

    def factorization_error(self, d: Distribution, denoiser: Any = None) -> float:
        """E_fact under this kind, in nats (a planner seeing ``denoiser``'s probabilities)."""
        raise _unsupported(self, "factorization_error")

    def reveal(
        self,
        step: int,
        tokens: np.ndarray,
        d: Distribution,
        denoiser: Any,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The positions each row of ``tokens`` reveals at ``step`` (bool ``(B, N)``)."""
        raise _unsupported(self, "reveal")
