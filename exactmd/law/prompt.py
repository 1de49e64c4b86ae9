"""A prompt: positions fixed as revealed before a sampler starts.

Real samplers always condition on a prompt. A prompt is a mapping ``{position: value}`` of
distinct positions ``0 <= i < N`` with values in ``range(q_i)``; :func:`as_prompt` validates it
against the law's alphabets and returns it as a sorted tuple of pairs, and :func:`prompt_mass`
is ``π(x_prompt)``, which must be positive for a run to be defined.

Examples
--------
>>> as_prompt({2: 1, 0: 0}, (2, 2, 3))
((0, 0), (2, 1))
>>> as_prompt({3: 0}, (2, 2))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
exactmd.errors.ValidationError: prompt: positions must lie in range(N) = range(2); received ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from exactmd._validate import as_integer
from exactmd.errors import ValidationError, describe

__all__ = ["as_prompt", "prompt_mass", "prompt_tokens"]

#: A validated prompt: sorted ``(position, value)`` pairs.
Prompt = tuple[tuple[int, int], ...]


def as_prompt(prompt: Any, shape: tuple[int, ...], name: str = "prompt") -> Prompt:
    """Validate ``prompt`` (None, or a mapping ``{position: value}``) against ``shape``.

    Raises :class:`~exactmd.errors.ValidationError` naming ``name`` for anything but a mapping
    of integer positions in ``range(N)`` to integer values in ``range(q_i)``.
    """
    if prompt is None:
        return ()
    if not isinstance(prompt, Mapping):
        raise ValidationError(
            f"{name}: must be None or a mapping {{position: value}}; received {describe(prompt)}"
        )
    n = len(shape)
    pairs = []
    for key, value in prompt.items():
        pos, val = as_integer(key), as_integer(value)
        if pos is None or not 0 <= pos < n:
            raise ValidationError(
                f"{name}: positions must lie in range(N) = range({n}); received position {key!r}"
            )
        if val is None or not 0 <= val < shape[pos]:
            raise ValidationError(
                f"{name}: the value at position {pos} must lie in range(q_{pos}) = "
                f"range({shape[pos]}); received {value!r}"
            )
        pairs.append((pos, val))
    if len({p for p, _ in pairs}) != len(pairs):  # 2 and 2.0 are the same position
        raise ValidationError(f"{name}: each position may appear once; received {prompt!r}")
    return tuple(sorted(pairs))


def prompt_tokens(prompt: Prompt, shape: tuple[int, ...], rows: int = 1) -> np.ndarray:
    """int64 tokens ``(rows, N)``: every position masked (``q = max q_i``) but the prompt's."""
    tokens = np.full((rows, len(shape)), max(shape), dtype=np.int64)
    for pos, val in prompt:
        tokens[:, pos] = val
    return tokens


def prompt_mass(table: np.ndarray, prompt: Prompt) -> float:
    """``π(x_prompt)``: the table's mass on the prompt's values (1.0 for an empty prompt)."""
    index: list[Any] = [slice(None)] * table.ndim
    for pos, val in prompt:
        index[pos] = val
    return float(np.sum(table[tuple(index)]))
