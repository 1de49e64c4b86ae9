"""Laws: the validated joint distribution π that every computation starts from.

:func:`as_distribution` accepts a numpy array, a torch tensor, nested lists, a sympy array or
a model loader's result, checks it once (finite, non-negative, total 1 within tolerance,
then divided by its total) and returns a :class:`Distribution` that owns its table.

- :mod:`exactmd.law.distribution` — :class:`Distribution` (and its symbolic subclass),
  :func:`as_distribution`;
- :mod:`exactmd.law.tables` — the checks of a numeric table and their tolerances;
- :mod:`exactmd.law.records` — what a law carries besides its table (the model that built it,
  its derived values);
- :mod:`exactmd.law.coerce` — which path an object array or nested list takes (exact or
  floating point).
"""

from exactmd.law.distribution import Distribution as Distribution
from exactmd.law.distribution import as_distribution as as_distribution

__all__ = [
    "Distribution",
    "as_distribution",
]
