"""Error classes of exactmd.

Every error raised on bad input is a subclass of :class:`ValueError`, and its message names the
argument, the rule it broke and the value received.
"""

from __future__ import annotations

__all__ = [
    "ExactmdError",
    "ValidationError",
    "DistributionError",
    "ScheduleError",
    "DenoiserError",
    "MemoryPlanError",
    "ModelError",
    "ModelSizeError",
    "NoPowerError",
    "TieError",
    "describe",
]


class ExactmdError(Exception):
    """Base class of every error exactmd raises on purpose."""


class ValidationError(ExactmdError, ValueError):
    """An argument broke a documented rule (base class of all input errors)."""


class DistributionError(ValidationError):
    """A probability table is not a valid law (negative, NaN, not normalised, empty axis...)."""


class ScheduleError(ValidationError):
    """A schedule is not valid for the law it is used with."""


class DenoiserError(ValidationError):
    """A denoiser returned probabilities of the wrong shape or that are not a law."""


class MemoryPlanError(ValidationError):
    """The computation would need more memory than is available; raised before allocating."""


class ModelError(ValidationError):
    """A graphical model or model file is malformed, missing or too large to enumerate."""


class ModelSizeError(ModelError, MemoryPlanError):
    """A model's joint table is too large to enumerate in the memory available.

    It is both a :class:`ModelError` and a :class:`MemoryPlanError`, raised before anything is
    allocated.
    """


class TieError(ValidationError):
    """A sampler's selection has a tie of positive probability (two candidates with equal
    scores where only some can be kept), whose resolution the public code leaves to
    ``torch.topk``; pass ``ties="split"`` to split such ties uniformly instead."""


class NoPowerError(ValidationError):
    """A statistical test was asked for where it cannot reject: too few samples for any
    p-value to reach alpha, a law with a single possible outcome, or an alternative identical
    to the law. The message names the argument, the rule and the value received."""


def describe(value: object, limit: int = 80) -> str:
    """Return a short, one-line ``repr`` of ``value`` for error messages.

    Examples
    --------
    >>> describe([1, 2, 3])
    '[1, 2, 3]'
    >>> len(describe(list(range(1000)))) <= 80
    True
    """
    text = repr(value).replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text
