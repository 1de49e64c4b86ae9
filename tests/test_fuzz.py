"""Issue 13: every public function on bad inputs.

Each public function of ``exactmd`` and of its subpackages (``PUBLIC_MODULES``) is called with
valid arguments except one, which takes a value from a pool of bad ones (wrong types, NaN,
infinities, negatives, ragged lists, bools, strings, complex numbers, empty arrays...). The
call may succeed (the value may be legal there) and then its result holds no NaN; or it
raises, and then the exception is a ``ValueError`` subclass whose message names the argument
(an ``assert_*`` function may also fail its check, with an ``AssertionError``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pytest
from helpers import random_law

import exactmd
import exactmd.backends
import exactmd.denoisers
import exactmd.enumeration
import exactmd.law
import exactmd.measures
import exactmd.models
import exactmd.sampler
import exactmd.schedules
import exactmd.testing

#: Every public namespace: the top level and each subpackage's ``__all__``.
PUBLIC_MODULES = (
    exactmd,
    exactmd.backends,
    exactmd.law,
    exactmd.enumeration,
    exactmd.measures,
    exactmd.schedules,
    exactmd.denoisers,
    exactmd.sampler,
    exactmd.models,
    exactmd.testing,
)
LAW = random_law((2, 3, 2), seed=11, zeros=0.3)
OTHER = random_law((2, 3, 2), seed=12, zeros=0.0)
PROFILE = exactmd.information_profile(LAW)
SAMPLES = exactmd.sample(LAW, [1, 1, 1], 40, seed=0)  # K = N: draws from π itself

#: A valid value for each parameter name (overridden per function below).
VALID: dict[str, Any] = {
    "p": LAW,
    "r": OTHER,
    "law": LAW,
    "schedule": [2, 1],
    "denoiser": None,
    "p_or_profile": PROFILE,
    "profile": PROFILE,
    "steps": 2,
    "max_steps": 2,
    "n": 5,
    "target": [0],
    "given": [1],
    "a": [0],
    "b": [1],
    "subset": [0, 2],
    "i": 0,
    "temperature": 1.0,
    "noise": 0.1,
    "seed": 0,
    "fn": exactmd.exact_denoiser(LAW),
    "tokens": "auto",
    "batch_size": 4,
    "samples": SAMPLES,
    "n_orders": 1,
    "shape": (2, 3, 2),
    "name": "linear",
    "alpha": lambda t: t,
    "collisions": "push",
    "init": [0.5, 0.5],
    "transition": [[0.9, 0.1], [0.2, 0.8]],
    "alternative": OTHER,
    "estimate": PROFILE + 1e-9,
    "text": "ising:n=3,coupling=0.5",
    "blocks": [2, 1],
    "emission": [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]],
    "marginal": [0.25, 0.75],
    "laws": [LAW, OTHER],
    "weights": [0.3, 0.7],
    "m": 2,
}

#: Names a message may use for an argument: the documented name of what it holds.
ALIASES: dict[str, tuple[str, ...]] = {
    "p_or_profile": ("p", "profile"),
    "text": ("spec",),
    "n": ("N=",),  # the number of variables, written N in messages
}

#: Per-function valid values where the generic ones do not fit.
OVERRIDES: dict[str, dict[str, Any]] = {
    "conditional": {"given": {1: 0}},
    "sample": {"n": 6},
    "from_alpha": {"n": 6},
    "named_schedule": {"n": 6},
    "ising": {"graph": nx.path_graph(3)},
    "potts": {"graph": nx.path_graph(3)},
    "random_xorsat": {"n": 4},
    "as_schedule": {"n": 3},
    "evaluate_denoiser": {"tokens": np.full((2, 3), 3), "denoiser": exactmd.exact_denoiser(LAW)},
    "markov_profile": {"transition": [[0.9, 0.1], [0.2, 0.8]], "n": 5},
    "markov_spec_parameters": {"text": "markov:n=5,stay=0.8"},
    "markov_chain_parameters": {
        "dist": exactmd.models.markov_chain([0.5, 0.5], [[0.9, 0.1], [0.2, 0.8]], 4)
    },
    "estimate_profile": {"denoiser": exactmd.exact_denoiser(LAW)},
    "assert_denoiser_matches": {"denoiser": exactmd.exact_denoiser(LAW)},
    "assert_sampler_matches": {"samples": exactmd.sample(LAW, [2, 1], 4000, seed=1)},
    "assert_samples_match": {"samples": exactmd.sample(LAW, [1, 1, 1], 4000, seed=1)},
}

#: Functions not fuzzed here: file and network loaders (tests/test_models_files.py fuzzes
#: them with malformed files), planners (called by exactmd itself with checked arguments),
#: and factories whose arguments are checked by the functions they return.
SKIP = {
    "load",
    "load_example",
    "read_model",
    "example_path",
    "from_pgmpy",
    "contract_factors",
    "most_confident_planner",
    "least_entropy_planner",
    "get_backend",
    "available_models",
    # type predicates and converters of the backends, defined on any object
    "is_torch_tensor",
    "on_cuda",
    "to_host",
}

#: Parameters that only choose where to compute (fuzzed separately below).
PLACE = {"backend", "device", "dtype", "progress", "native", "label", "ranks", "order"}
PLACE |= {"name"}  # the argument's name used in messages (evaluate_denoiser), not data

BAD: list[Any] = [
    None,
    "x",
    True,
    -1,
    0,
    1.5,
    math.nan,
    math.inf,
    -math.inf,
    [],
    [[1, 2], [3]],
    object(),
    1 + 2j,
    np.array([np.nan]),
    {"a": 1},
    np.zeros((0,)),
    10**20,
]


def _public() -> list[tuple[str, Callable[..., Any]]]:
    out = []
    for module in PUBLIC_MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if name in SKIP or inspect.isclass(obj) or not callable(obj):
                continue
            out.append((name, obj))
    return sorted(dict(out).items())


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name, fn in _public():
        for param in inspect.signature(fn).parameters.values():
            if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL) or param.name in PLACE:
                continue
            cases.append((name, param.name))
    return cases


def _call(name: str, bad_param: str, bad: Any) -> Any:
    fn = dict(_public())[name]
    kwargs: dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        if param.name == bad_param:
            kwargs[param.name] = bad
        elif param.name in OVERRIDES.get(name, {}):
            kwargs[param.name] = OVERRIDES[name][param.name]
        elif param.default is not param.empty:
            continue
        elif param.name in VALID:
            kwargs[param.name] = VALID[param.name]
        else:  # pragma: no cover - a new public function: give it a valid value above
            raise AssertionError(f"no valid value for {name}({param.name}=...)")
    return fn(**kwargs)


def _has_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        return bool(np.isnan(value).any())
    return False


@pytest.mark.parametrize("name", sorted(dict(_public())))
def test_every_public_function_runs_on_its_valid_arguments(name: str) -> None:
    """The baseline of the fuzz: with no bad argument, each call works (or, for an assert,
    passes), so every failure below comes from the one bad value."""
    assert not _has_nan(_call(name, "", None))


@pytest.mark.parametrize("name, param", _cases())
def test_bad_input_is_a_value_error_naming_the_argument(name: str, param: str) -> None:
    for bad in BAD:
        try:
            result = _call(name, param, bad)
        except ValueError as exc:
            assert isinstance(exc, exactmd.ExactmdError), (
                f"{name}({param}={bad!r}) raised a bare {type(exc).__name__}: {exc}"
            )
            assert any(n in str(exc) for n in (param, *ALIASES.get(param, ()))), (
                f"{name}({param}={bad!r}): the message does not name {param!r}: {exc}"
            )
        except AssertionError:  # an assert_* function's verdict on a legal value (atol=0...)
            assert name.startswith("assert_"), f"{name}({param}={bad!r}) raised AssertionError"
        except Exception as exc:
            pytest.fail(f"{name}({param}={bad!r}) raised {type(exc).__name__}: {exc}")
        else:
            assert not _has_nan(result), f"{name}({param}={bad!r}) returned NaN: {result!r}"
