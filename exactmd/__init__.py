"""exactmd: exact analysis of masked discrete diffusion samplers.

Enumerate a small law π exactly and compute every quantity of the theory of factorized
(parallel) unmasking: entropies, total correlation, D(π), the information profile f, the
factorization error E_fact, the learning error E_learn, the sampler's exact output law p_alg,
and optimal schedules. All quantities are in nats. ``import exactmd`` imports numpy only.

Examples
--------
>>> import math
>>> import numpy as np, exactmd
>>> p = np.zeros((2, 2, 2))
>>> for a in (0, 1):
...     for b in (0, 1):
...         p[a, b, a ^ b] = 0.25
>>> round(exactmd.complexity(p) / math.log(2), 12)
1.0
"""

from __future__ import annotations

from exactmd.distribution import Distribution, as_distribution
from exactmd.errors import (
    DenoiserError,
    DistributionError,
    ExactmdError,
    MemoryPlanError,
    ModelError,
    ScheduleError,
    ValidationError,
)
from exactmd.factorization import (
    exchangeable_bound,
    factorization_error,
    worst_case_bound,
    worst_case_log_bound,
)
from exactmd.masked import (
    ZERO_CONTEXT_POLICY,
    conditional,
    marginal,
    masked_tensor,
    subset_entropies,
    subset_entropy,
)
from exactmd.measures import (
    complexity,
    conditional_entropy,
    dual_total_correlation,
    entropy,
    information_profile,
    kl,
    mean_subset_entropies,
    mutual_information,
    total_correlation,
)
from exactmd.optimal import optimal_schedule
from exactmd.sampler import learning_error, output_distribution
from exactmd.schedules import (
    DeterministicSchedule,
    ExchangeableSchedule,
    RandomRevealSchedule,
    Schedule,
    as_schedule,
)

__version__ = "0.1.0"

__all__ = [
    # contract (DESIGN §3)
    "entropy",
    "total_correlation",
    "dual_total_correlation",
    "complexity",
    "information_profile",
    "factorization_error",
    "learning_error",
    "output_distribution",
    "kl",
    "optimal_schedule",
    # measures
    "conditional_entropy",
    "mutual_information",
    "mean_subset_entropies",
    # enumeration
    "Distribution",
    "as_distribution",
    "masked_tensor",
    "subset_entropies",
    "subset_entropy",
    "marginal",
    "conditional",
    "ZERO_CONTEXT_POLICY",
    # schedules and bounds
    "Schedule",
    "ExchangeableSchedule",
    "DeterministicSchedule",
    "RandomRevealSchedule",
    "as_schedule",
    "exchangeable_bound",
    "worst_case_bound",
    "worst_case_log_bound",
    # errors
    "ExactmdError",
    "ValidationError",
    "DistributionError",
    "ScheduleError",
    "DenoiserError",
    "MemoryPlanError",
    "ModelError",
]
