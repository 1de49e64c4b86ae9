"""The one timing helper of the benchmarks: best wall time of a few repeats."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def _no_sync() -> None:
    return None


def best_time(
    fn: Callable[[], Any], repeat: int, sync: Callable[[], None] = _no_sync
) -> tuple[float, Any]:
    """Run ``fn`` ``repeat`` times; return the best wall time (s) and the last result.

    ``sync`` runs before starting and before stopping the clock (e.g.
    ``torch.cuda.synchronize`` so that queued GPU work is counted).
    """
    best, out = float("inf"), None
    for _ in range(max(1, repeat)):
        sync()
        start = time.perf_counter()
        out = fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best, out
