"""The sampler: its exact output law p_alg, the learning error, the bound report, adaptive
planners, Monte Carlo runs and the estimation of f from samples.

- :mod:`exactmd.sampler.p_alg` — :func:`output_distribution`, a recursion over levels of
  revealed sets (no sum over permutations);
- :mod:`exactmd.sampler.learning` — :func:`learning_error`;
- :mod:`exactmd.sampler.bound` — :func:`check_bound` and :class:`BoundReport`;
- :mod:`exactmd.sampler.adaptive`, :mod:`exactmd.sampler.planners` — planners that look at
  the revealed values (:class:`AdaptiveSchedule`);
- :mod:`exactmd.sampler.montecarlo` — :func:`sample`, the real algorithm;
- :mod:`exactmd.sampler.estimate` — :func:`estimate_profile`, f̂ with standard errors;
- :mod:`exactmd.sampler.practice`, :mod:`exactmd.sampler.chain_mc` — schedules from f̂ judged
  exactly (:func:`~exactmd.sampler.practice.practice_study`), E_fact of chain laws by Monte
  Carlo with exact block conditionals
  (:func:`~exactmd.sampler.chain_mc.mc_factorization_error`); import them from their
  modules.

Internals: ``_levels`` (revealed-set bookkeeping), ``_gather`` (gather plans), ``_plan``
(the memory plan of p_alg).
"""

from exactmd.sampler.adaptive import AdaptiveSchedule as AdaptiveSchedule
from exactmd.sampler.bound import BoundReport as BoundReport
from exactmd.sampler.bound import check_bound as check_bound
from exactmd.sampler.estimate import ProfileEstimate as ProfileEstimate
from exactmd.sampler.estimate import estimate_profile as estimate_profile
from exactmd.sampler.learning import learning_error as learning_error
from exactmd.sampler.montecarlo import sample as sample
from exactmd.sampler.p_alg import output_distribution as output_distribution
from exactmd.sampler.planners import least_entropy_planner as least_entropy_planner
from exactmd.sampler.planners import most_confident_planner as most_confident_planner

__all__ = [
    "AdaptiveSchedule",
    "BoundReport",
    "ProfileEstimate",
    "check_bound",
    "estimate_profile",
    "learning_error",
    "least_entropy_planner",
    "most_confident_planner",
    "output_distribution",
    "sample",
]
