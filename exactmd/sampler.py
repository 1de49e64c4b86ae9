"""The sampler's exact output law p_alg and the learning error E_learn (issue 3)."""

from __future__ import annotations

from typing import Any

__all__ = ["output_distribution", "learning_error"]


def output_distribution(p: Any, schedule: Any, denoiser: Any = None) -> Any:
    """p_alg, the exact law of the factorized sampler's output (not implemented yet)."""
    raise NotImplementedError("output_distribution: the exact sampler law lands with issue 3")


def learning_error(p: Any, schedule: Any, denoiser: Any) -> Any:
    """E_learn (not implemented yet)."""
    raise NotImplementedError("learning_error: lands with issue 3")
