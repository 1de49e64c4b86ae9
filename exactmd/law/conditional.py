"""The law a prompted sampler aims at: π(x | x_prompt) over the full shape.

A sampler started from a prompt (positions fixed as revealed, see :mod:`exactmd.law.prompt`)
targets the conditional law of the rest given the prompt. :func:`conditional_law` returns it
as a table of the law's own shape, zero wherever x disagrees with the prompt, so that it can be
compared with the output law of a prompted run (``exactmd.output_distribution(p, s,
prompt=...)``) by :func:`exactmd.kl` or the testing asserts.

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.4, 0.1], [0.2, 0.3]])
>>> conditional_law(p, {0: 1}).tolist()
[[0.0, 0.0], [0.4, 0.6]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exactmd.errors import ValidationError
from exactmd.law.distribution import as_distribution
from exactmd.law.prompt import as_prompt

__all__ = ["conditional_law"]


def conditional_law(p: Any, prompt: Any = None) -> np.ndarray:
    """π(x | x_prompt) as a table of the shape of ``p``, zero off the prompt.

    Parameters
    ----------
    p
        The law π (anything :func:`exactmd.as_distribution` accepts).
    prompt
        ``{position: value}`` (validated as the samplers validate it: distinct positions in
        ``range(N)``, values in ``range(q_i)``); None or ``{}`` gives π itself.

    Returns
    -------
    numpy.ndarray
        float64 (an object array of exact expressions for a symbolic law), summing to 1.

    Raises
    ------
    ValidationError
        For a malformed prompt, or one of probability 0 under π (the conditional law is not
        defined there), naming ``prompt`` and the value received.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.5, 0.0], [0.25, 0.25]])
    >>> conditional_law(p, {1: 1}).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    >>> conditional_law(p, {0: 0, 1: 1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ValidationError: prompt: has probability 0 under p, so ... received {0: 0, 1: 1}
    """
    d = as_distribution(p)
    pr = as_prompt(prompt, d.shape)
    table = np.asarray(d.backend.to_numpy(d.table))
    if table.dtype != object:
        table = table.astype(np.float64)
    index: list[Any] = [slice(None)] * d.n
    for pos, val in pr:
        index[pos] = val
    part = table[tuple(index)]
    mass = np.sum(part)
    if bool(mass == 0):
        raise ValidationError(
            "prompt: has probability 0 under p, so π(x | x_prompt) is not defined; received "
            f"{dict(pr)}"
        )
    out = np.zeros_like(table)
    out[tuple(index)] = part / mass
    return out
