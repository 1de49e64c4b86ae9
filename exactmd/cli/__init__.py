"""The command line: ``exactmd report`` (the main job) and its plots.

- :mod:`exactmd.cli.main` — the argument parser and :func:`main`;
- :mod:`exactmd.cli.report` — the report of a model: measures, optimal schedules, bounds;
- :mod:`exactmd.cli.plotting` — the report's figure (matplotlib, imported on use).
"""

from exactmd.cli.main import main as main

__all__ = [
    "main",
]
