"""Progress bars for long runs: tqdm when it is installed, silent otherwise.

``progress=None`` (the default of the functions that take it) shows a bar only for long runs,
``True`` always (when tqdm is installed), ``False`` never.

Examples
--------
>>> with progress_bar(3, progress=False, desc="demo") as bar:
...     for _ in range(3):
...         bar.update(1)
>>> bar.count
3
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["ProgressBar", "progress_bar", "show_progress", "LONG_RUN_CELLS"]

#: Runs touching at least this many tensor cells count as long (several seconds on a CPU).
LONG_RUN_CELLS = 2**30


def show_progress(progress: bool | None, cells: float) -> bool:
    """Whether to show a bar: ``progress`` when given, else whether ``cells`` is a long run.

    Examples
    --------
    >>> show_progress(None, 10), show_progress(None, 2**31), show_progress(True, 10)
    (False, True, True)
    """
    if progress is None:
        return cells >= LONG_RUN_CELLS
    return bool(progress)


class ProgressBar:
    """A context manager counting steps; it drives a tqdm bar when enabled and available.

    Attributes
    ----------
    count : int
        Steps reported so far.
    """

    def __init__(self, total: int, enabled: bool, desc: str = "") -> None:
        self.total = int(total)
        self.count = 0
        self._bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # pragma: no cover - depends on the environment
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=self.total, desc=desc, leave=False, file=sys.stderr)

    @property
    def active(self) -> bool:
        """True when a tqdm bar is shown."""
        return self._bar is not None

    def update(self, n: int = 1) -> None:
        """Report ``n`` more steps."""
        self.count += n
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def progress_bar(
    total: int, *, progress: bool | None = None, cells: float = 0.0, desc: str = ""
) -> ProgressBar:
    """A :class:`ProgressBar` of ``total`` steps, shown as :func:`show_progress` decides.

    Parameters
    ----------
    total
        Number of steps.
    progress
        True/False to force the bar on/off; None to show it when ``cells`` is a long run.
    cells
        Size of the whole run in tensor cells (used when ``progress`` is None).
    desc
        Label of the bar.
    """
    return ProgressBar(total, show_progress(progress, cells), desc)
