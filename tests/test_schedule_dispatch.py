"""Schedule kinds the core recursion does not know: the core functions call their methods.

A kind written here (not the adaptive planner) delegates each method to the deterministic
schedule of the same partition and records its calls: the core functions must reach it through
``exactmd.schedules.custom`` with the arguments of the contract, and the results must be those
of the deterministic schedule computed by the core. A kind without the methods is refused with
ScheduleError by each core function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import random_law

from exactmd.denoisers.exact import perturbed_denoiser
from exactmd.errors import ScheduleError
from exactmd.sampler.bound import check_bound
from exactmd.sampler.learning import learning_error
from exactmd.sampler.montecarlo import sample
from exactmd.sampler.p_alg import output_distribution
from exactmd.schedules.custom import CustomSchedule, is_core_schedule, schedule_method
from exactmd.schedules.factorization import factorization_error
from exactmd.schedules.kinds import DeterministicSchedule, Schedule

CORE_MODULES = [
    "sampler/p_alg",
    "sampler/learning",
    "sampler/montecarlo",
    "sampler/bound",
    "schedules/factorization",
]


@dataclass(frozen=True)
class Recorded(CustomSchedule):
    """A fixed partition computed through the hooks (delegating to DeterministicSchedule)."""

    partition: tuple[tuple[int, ...], ...]
    calls: list[tuple[Any, ...]] = field(default_factory=list, compare=False)

    @property
    def det(self) -> DeterministicSchedule:
        return DeterministicSchedule(self.partition)

    @property
    def num_steps(self) -> int:
        return len(self.partition)

    def validate(self, n: int) -> Recorded:
        self.det.validate(n)
        return self

    def output_distribution(self, d: Any, denoiser: Any = None, *, native: bool = False) -> Any:
        self.calls.append(("output_distribution", d, denoiser, native))
        return output_distribution(d, self.det, denoiser, native=native)

    def learning_error(self, d: Any, denoiser: Any) -> float:
        self.calls.append(("learning_error", d, denoiser))
        return float(learning_error(d, self.det, denoiser))

    def factorization_error(self, d: Any, denoiser: Any = None) -> float:
        self.calls.append(("factorization_error", d, denoiser))
        return float(factorization_error(d, self.det))

    def reveal(self, step: int, tokens: np.ndarray, d: Any, denoiser: Any, rng: Any) -> Any:
        self.calls.append(("reveal", step, tokens.shape, denoiser))
        out = np.zeros(tokens.shape, dtype=bool)
        out[:, list(self.partition[step])] = True
        return out


@dataclass(frozen=True)
class Bare(Schedule):
    """A schedule kind with none of the methods."""

    sizes: tuple[int, ...]

    @property
    def num_steps(self) -> int:
        return len(self.sizes)

    def validate(self, n: int) -> Bare:
        return self


@pytest.mark.parametrize("learned", [False, True])
def test_core_functions_call_the_schedule_methods(learned):
    p = random_law((2, 3, 2), seed=3, zeros=0.3)
    den = perturbed_denoiser(p, temperature=1.5, noise=0.2, seed=1) if learned else None
    partition = ((2,), (0, 1))
    sched, det = Recorded(partition), DeterministicSchedule(partition)
    np.testing.assert_array_equal(
        output_distribution(p, sched, den), output_distribution(p, det, den)
    )
    assert sched.calls[-1][0] == "output_distribution" and sched.calls[-1][2] is den
    assert sched.calls[-1][3] is False
    output_distribution(p, sched, den, native=True)
    assert sched.calls[-1][3] is True
    assert learning_error(p, sched, den) == learning_error(p, det, den)
    if learned:  # with None, E_learn is 0 before any dispatch
        assert sched.calls[-1][:1] == ("learning_error",) and sched.calls[-1][2] is den
    assert factorization_error(p, sched) == factorization_error(p, det)
    assert sched.calls[-1] == ("factorization_error", sched.calls[-1][1], None)
    x = sample(p, sched, 500, den, seed=0)
    reveals = [c for c in sched.calls if c[0] == "reveal"]
    assert [c[1] for c in reveals] == [0, 1] and all(c[2] == (500, 3) for c in reveals)
    np.testing.assert_array_equal(x, sample(p, det, 500, den, seed=0))
    del sched.calls[:]
    rep, ref = check_bound(p, sched, den), check_bound(p, det, den)
    assert (rep.kl, rep.learning_error, rep.factorization_error) == (
        ref.kl,
        ref.learning_error,
        ref.factorization_error,
    )
    # check_bound hands the sampler's denoiser to the kind's E_fact (a planner would see it)
    fact = [c for c in sched.calls if c[0] == "factorization_error"]
    assert len(fact) == 1 and fact[0][2] is den


def test_one_argument_factorization_hook_still_works():
    @dataclass(frozen=True)
    class OldHook(Bare):
        def factorization_error(self, d: Any) -> float:
            return 0.25

    p = random_law((2, 2, 2), seed=1)
    assert factorization_error(p, OldHook((1, 2))) == 0.25


@pytest.mark.parametrize("kind", [Bare, CustomSchedule])
def test_unsupported_kind_is_refused_by_every_core_function(kind):
    p = random_law((2, 3), seed=2)
    if kind is Bare:
        sched: Any = Bare((1, 1))
    else:

        class Empty(CustomSchedule):
            num_steps = 2

            def validate(self, n: int) -> Empty:
                return self

        sched = Empty()
    den = perturbed_denoiser(p, temperature=1.5)
    calls = {
        "output_distribution": lambda: output_distribution(p, sched),
        "learning_error": lambda: learning_error(p, sched, den),
        "factorization_error": lambda: factorization_error(p, sched),
        "reveal": lambda: sample(p, sched, 3, seed=0),
        "check_bound": lambda: check_bound(p, sched),
    }
    for name, call in calls.items():
        method = "output_distribution" if name == "check_bound" else name
        rule = rf"^schedule: unsupported schedule kind \(.*must provide {method}\); received "
        with pytest.raises(ScheduleError, match=rule):
            call()
    # even with π's own conditionals the kind is asked: a sampler may temper its values
    rule = r"^schedule: unsupported schedule kind \(.*must provide learning_error\); received "
    with pytest.raises(ScheduleError, match=rule):
        learning_error(p, sched, None)
    assert sample(p, sched, 0, seed=0).shape == (0, 2)  # nothing drawn, nothing asked


def test_core_kinds_and_method_lookup():
    assert is_core_schedule(DeterministicSchedule(((0,), (1,))))
    assert not is_core_schedule(Recorded(((0,), (1,))))
    with pytest.raises(ScheduleError, match=r"must provide reveal\); received Bare\(sizes"):
        schedule_method(Bare((1,)), "reveal")


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_modules_do_not_import_the_adaptive_module(module):
    path = Path(__file__).resolve().parents[1] / "exactmd" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not {
        m
        for m in imported
        if m.startswith(("exactmd.sampler.adaptive", "exactmd.sampler.planners"))
    }
