"""Schedules: the kinds of planner, the factorization error E_fact, its bounds, the optimum
and the scaling theory.

- :mod:`exactmd.schedules.kinds` — :class:`ExchangeableSchedule`,
  :class:`DeterministicSchedule`, :class:`RandomRevealSchedule` and :func:`as_schedule`;
- :mod:`exactmd.schedules.program` — level programs: what each kind does, as moves between
  levels of revealed sets (the engine, its plan, E_learn and Monte Carlo read these);
- :mod:`exactmd.schedules.custom` — the hook through which other kinds (adaptive planners)
  plug in;
- :mod:`exactmd.schedules.families` — named size families (linear, cosine, loglinear, …) and
  :func:`from_alpha`;
- :mod:`exactmd.schedules.factorization` — E_fact and the three bounds;
- :mod:`exactmd.schedules.optimum` — the optimal sizes by dynamic programming;
- :mod:`exactmd.schedules.scaling` — the continuous optimum, the √ rule and the predicted
  gain.
"""

from exactmd.schedules.factorization import exchangeable_bound as exchangeable_bound
from exactmd.schedules.factorization import factorization_error as factorization_error
from exactmd.schedules.factorization import worst_case_bound as worst_case_bound
from exactmd.schedules.factorization import worst_case_log_bound as worst_case_log_bound
from exactmd.schedules.families import from_alpha as from_alpha
from exactmd.schedules.families import named_schedule as named_schedule
from exactmd.schedules.kinds import DeterministicSchedule as DeterministicSchedule
from exactmd.schedules.kinds import ExchangeableSchedule as ExchangeableSchedule
from exactmd.schedules.kinds import RandomRevealSchedule as RandomRevealSchedule
from exactmd.schedules.kinds import Schedule as Schedule
from exactmd.schedules.kinds import as_schedule as as_schedule
from exactmd.schedules.optimum import optimal_curve as optimal_curve
from exactmd.schedules.optimum import optimal_error as optimal_error
from exactmd.schedules.optimum import optimal_schedule as optimal_schedule
from exactmd.schedules.program import ContextWeight as ContextWeight
from exactmd.schedules.program import LevelMove as LevelMove
from exactmd.schedules.program import LevelProgram as LevelProgram

__all__ = [
    "ContextWeight",
    "LevelMove",
    "LevelProgram",
    "DeterministicSchedule",
    "ExchangeableSchedule",
    "RandomRevealSchedule",
    "Schedule",
    "as_schedule",
    "exchangeable_bound",
    "factorization_error",
    "from_alpha",
    "named_schedule",
    "optimal_curve",
    "optimal_error",
    "optimal_schedule",
    "worst_case_bound",
    "worst_case_log_bound",
]
