"""Enumeration: the masked-marginal tensor and everything read off it.

Every marginal, conditional and subset entropy of a small law comes from one tensor of shape
``(q_1 + 1, …, q_N + 1)`` (one extra "masked" value per axis), built in place or streamed over
leading axes under a memory plan made before any allocation.

- :mod:`exactmd.enumeration.masked` — the masked tensor, subset entropies, marginals and
  conditionals of a :class:`~exactmd.law.Distribution` (native arrays);
- :mod:`exactmd.enumeration.conditionals` — π's exact conditionals at masked tokens (the exact
  denoiser's rows) and the zero-context policy;
- :mod:`exactmd.enumeration.plan` — :class:`MemoryPlan` and :func:`plan_subset_entropies`;
- :mod:`exactmd.enumeration.streamed` — the streamed execution of a plan;
- :mod:`exactmd.enumeration.queries` — the public versions (any input, host results), listed
  here.
"""

from exactmd.enumeration.conditionals import ZERO_CONTEXT_POLICY as ZERO_CONTEXT_POLICY
from exactmd.enumeration.plan import MemoryPlan as MemoryPlan
from exactmd.enumeration.queries import conditional as conditional
from exactmd.enumeration.queries import marginal as marginal
from exactmd.enumeration.queries import masked_tensor as masked_tensor
from exactmd.enumeration.queries import plan_subset_entropies as plan_subset_entropies
from exactmd.enumeration.queries import subset_entropies as subset_entropies
from exactmd.enumeration.queries import subset_entropy as subset_entropy

__all__ = [
    "MemoryPlan",
    "ZERO_CONTEXT_POLICY",
    "conditional",
    "marginal",
    "masked_tensor",
    "plan_subset_entropies",
    "subset_entropies",
    "subset_entropy",
]
