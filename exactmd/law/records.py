"""What a law carries besides its table: the model that built it and the values derived from it.

:class:`ModelInfo` is the ``model`` of a :class:`~exactmd.law.distribution.Distribution`,
written by the builders of :mod:`exactmd.models`; ``_Derived`` is the law's private slot of
derived values (one typed field each, filled by the modules that compute them).

Examples
--------
>>> ModelInfo("markov_chain", {"n": 4}).params["n"]
4
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["ModelInfo"]


@dataclass(frozen=True)
class ModelInfo:
    """What a model builder of :mod:`exactmd.models` recorded about the law it built.

    Attributes
    ----------
    name : str
        The builder's name (``"markov_chain"``, ``"ising"``, ``"mixture"``…).
    params : Mapping
        Its parameters (plain numpy and Python values, e.g. ``init`` and ``transition`` for a
        Markov chain), read-only.

    Examples
    --------
    >>> info = ModelInfo("coin", {"bias": 0.25})
    >>> info.name, info.params["bias"]
    ('coin', 0.25)
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass
class _Derived:
    """Values computed from a law's table and kept for reuse, one typed slot each (they belong
    to the law's backend and dtype: :meth:`Distribution.with_backend` starts afresh).

    The modules that compute them own their types: ``masked`` (the masked-marginal tensor,
    :func:`exactmd.enumeration.masked.masked_tensor`), ``subset_entropies`` and
    ``subset_entropies_plan`` (:func:`exactmd.enumeration.masked.subset_entropies`),
    ``law_constants`` (``exactmd.enumeration.conditionals.LawConstants``) and
    ``singletons_and_cofaces`` (:mod:`exactmd.measures.information`).
    """

    masked: Any = None
    subset_entropies: Any = None
    subset_entropies_plan: Any = None
    law_constants: Any = None
    singletons_and_cofaces: Any = None
