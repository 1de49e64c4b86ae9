"""Progress bars for long runs: tqdm when it is installed, silent otherwise.

Every exactmd function with a ``progress`` argument (the sampler's p_alg, E_learn, the
streamed subset entropies) builds its bar with :func:`progress_bar`, and the argument means
the same everywhere:

- ``progress=None`` (the default): a bar only for a long run (at least ``long_run`` units of
  work), and only once it has lasted :data:`PROGRESS_DELAY_S` seconds, so short calls and
  tests print nothing;
- ``progress=True``: a bar at once (``delay=0``);
- ``progress=False``: never a bar.

tqdm is optional (``pip install 'exactmd[progress]'``) and imported only when a bar is to be
shown; without it every setting runs silently. The :class:`ProgressBar` counts the steps in
every case.

Examples
--------
>>> with progress_bar(3, progress=False, desc="demo") as bar:
...     for _ in range(3):
...         bar.update(1)
>>> bar.count, bar.active
(3, False)
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["ProgressBar", "progress_bar", "show_progress", "LONG_RUN_CELLS", "PROGRESS_DELAY_S"]

#: Runs touching at least this many tensor cells count as long (several seconds on a CPU).
LONG_RUN_CELLS = 2**30
#: Seconds a run lasts before its bar appears when ``progress=None``.
PROGRESS_DELAY_S = 3.0


def show_progress(progress: bool | None, cells: float, long_run: float = LONG_RUN_CELLS) -> bool:
    """Whether to show a bar: ``progress`` when given, else whether ``cells >= long_run``.

    Examples
    --------
    >>> show_progress(None, 10), show_progress(None, 2**31), show_progress(True, 10)
    (False, True, True)
    """
    if progress is None:
        return cells >= long_run
    return bool(progress)


class ProgressBar:
    """A context manager counting steps; it drives a tqdm bar when enabled and available.

    Parameters
    ----------
    total
        Number of steps.
    enabled
        Whether to show a bar (when tqdm is importable).
    desc
        Label of the bar.
    delay
        Seconds before the bar appears (tqdm's ``delay``).
    unit
        Name of one step in the bar.

    Attributes
    ----------
    count : int
        Steps reported so far.
    """

    def __init__(
        self, total: int, enabled: bool, desc: str = "", delay: float = 0.0, unit: str = "it"
    ) -> None:
        self.total = int(total)
        self.count = 0
        self._bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is optional: run silently
                return
            self._bar = tqdm(
                total=self.total,
                desc=desc,
                leave=False,
                file=sys.stderr,
                delay=float(delay),
                unit=unit,
                unit_scale=True,
            )

    @property
    def active(self) -> bool:
        """True when a tqdm bar is attached (it may still be waiting for its delay)."""
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
    total: int,
    *,
    progress: bool | None = None,
    cells: float = 0.0,
    desc: str = "",
    long_run: float = LONG_RUN_CELLS,
    delay: float | None = None,
    unit: str = "it",
) -> ProgressBar:
    """A :class:`ProgressBar` of ``total`` steps, shown as the module notes say.

    Parameters
    ----------
    total
        Number of steps.
    progress
        True/False to force the bar on/off; None to show it for a long run after a delay.
    cells
        Size of the whole run (tensor cells, products formed, …), compared with ``long_run``
        when ``progress`` is None.
    desc
        Label of the bar.
    long_run
        The size from which a run counts as long (default :data:`LONG_RUN_CELLS`).
    delay
        Seconds before the bar appears; default :data:`PROGRESS_DELAY_S` when ``progress`` is
        None and 0 otherwise.
    unit
        Name of one step in the bar.

    Examples
    --------
    >>> progress_bar(10**9, cells=10**9, long_run=10**12).active  # short run: no bar
    False
    """
    if delay is None:
        delay = PROGRESS_DELAY_S if progress is None else 0.0
    return ProgressBar(total, show_progress(progress, cells, long_run), desc, delay, unit)
