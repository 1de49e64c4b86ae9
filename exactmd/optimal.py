"""Optimal schedules by dynamic programming (issue 6)."""

from __future__ import annotations

from typing import Any

__all__ = ["optimal_schedule"]


def optimal_schedule(p_or_profile: Any, steps: int) -> Any:
    """The sizes minimising E_fact (not implemented yet)."""
    raise NotImplementedError("optimal_schedule: lands with issue 6")
