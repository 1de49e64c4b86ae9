"""Sampler specs: a sampler written as text, such as ``llada:steps=4,remasking=low_confidence``.

A spec is a builder name of :mod:`exactmd.samplers` (``llada``, ``fast_dllm``, ``dream``,
``mdlm``, ``eb``, ``block_refinement``), optionally followed by ``:`` and comma-separated
``key=value`` arguments. Values are read as Python literals where they parse (``4``, ``0.9``,
``None``, ``True``) and as strings otherwise (``low_confidence``). The command line's
``exactmd report MODEL --sampler SPEC`` reads its samplers this way.

Examples
--------
>>> parse_sampler("llada:steps=4,remasking=random,temperature=1.0")
llada(steps=4, remasking='random', temperature=1.0)
>>> parse_sampler("llada:steps=4,remask=random")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
exactmd.errors.ValidationError: sampler: llada takes no argument 'remask'...
"""

from __future__ import annotations

import ast
import importlib
import inspect
from typing import Any

from exactmd.errors import ValidationError, describe
from exactmd.samplers.base import SamplerSchedule

__all__ = ["SAMPLER_BUILDERS", "parse_sampler"]

#: The builders a spec may name, and the module of each.
SAMPLER_BUILDERS = {
    "llada": "exactmd.samplers.llada",
    "fast_dllm": "exactmd.samplers.fast_dllm",
    "dream": "exactmd.samplers.dream",
    "mdlm": "exactmd.samplers.mdlm",
    "eb": "exactmd.samplers.eb",
    "block_refinement": "exactmd.samplers.block_refinement",
}


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_sampler(spec: Any, name: str = "sampler") -> SamplerSchedule:
    """The sampler schedule a spec describes (see the module notes).

    Raises :class:`~exactmd.errors.ValidationError` naming ``name`` for an unknown builder, a
    malformed argument, or an argument the builder does not take; the builder's own checks
    (e.g. ``steps`` must be an integer) raise theirs.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValidationError(
            f"{name}: must be a spec such as 'llada:steps=4'; received {describe(spec)}"
        )
    head, _, rest = spec.strip().partition(":")
    builder = head.strip()
    if builder not in SAMPLER_BUILDERS:
        raise ValidationError(
            f"{name}: the sampler must be one of {tuple(SAMPLER_BUILDERS)}; received {builder!r}"
        )
    try:
        fn = getattr(importlib.import_module(SAMPLER_BUILDERS[builder]), builder)
    except (ImportError, AttributeError) as exc:  # a builder not shipped in this version
        raise ValidationError(
            f"{name}: the sampler {builder!r} is not available in this version"
        ) from exc
    kwargs: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValidationError(
                f"{name}: arguments must read key=value, comma-separated; received {item!r} "
                f"in {spec!r}"
            )
        kwargs[key.strip()] = _value(value.strip())
    params = inspect.signature(fn).parameters
    for key in kwargs:
        if key not in params:
            raise ValidationError(
                f"{name}: {builder} takes no argument {key!r}; it takes {tuple(params)} "
                f"(in {spec!r})"
            )
    missing = [
        k
        for k, prm in params.items()
        if prm.default is inspect.Parameter.empty
        and prm.kind in (prm.POSITIONAL_OR_KEYWORD, prm.KEYWORD_ONLY)
        and k not in kwargs
    ]
    if missing:
        raise ValidationError(
            f"{name}: {builder} needs the argument(s) {tuple(missing)}; received {spec!r}"
        )
    return fn(**kwargs)  # type: ignore[no-any-return]
