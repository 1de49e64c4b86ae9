"""Gather plans of the p_alg recursion vs direct set arithmetic, and the removal ranks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from exactmd.backends import get_backend
from exactmd.sampler._gather import GatherPlan, gather_plans, perm_plan
from exactmd.sampler._levels import colex_rank, full_level, removal_ranks


@pytest.mark.parametrize("n", [1, 4, 7])
def test_removal_ranks_equal_the_ranks_of_the_smaller_sets(n: int) -> None:
    for b in range(n + 1):
        combos = list(itertools.combinations(range(n), b))
        sets = np.array(combos, dtype=np.int64).reshape(len(combos), b)
        for s in range(b + 1):
            drop = removal_ranks(sets, n, s)
            for r in itertools.combinations(range(b), s):
                direct = colex_rank(np.delete(sets, list(r), axis=1), n)
                np.testing.assert_array_equal(drop(r), direct)


@pytest.mark.parametrize("shape", [(2, 2, 2, 2, 2), (2, 3, 2, 3, 2)])
def test_plans_point_at_the_source_set_and_the_new_positions_rows(shape: tuple[int, ...]) -> None:
    """For every target set T and pattern r: the location holds T without the positions r,
    and row ``loc·m + base[t] + j`` is that source set's row for the variable T_t (its
    complement, in increasing order, indexes the rows ``loc·m .. loc·m + m − 1``)."""
    n = len(shape)
    be = get_backend(name="numpy")
    for a, b in [(0, 2), (1, 3), (2, 5), (3, 4)]:
        src, tgt = full_level(shape, a), full_level(shape, b)
        m = n - a
        for gt, group in enumerate(tgt.groups):
            for r, g, loc, base, m_plan, _ in gather_plans(be, n, src, tgt, gt, b - a):
                assert m_plan == m
                source = src.groups[g]
                for k, target in enumerate(group.sets):
                    kept = [int(x) for i, x in enumerate(target) if i not in r]
                    assert source.sets[loc[k]].tolist() == kept
                    for j, t in enumerate(r):
                        row = int(loc[k] * m + base[t, j, k])
                        comps = source.comps[loc[k]].tolist()
                        assert row == loc[k] * m + comps.index(int(target[t]))


def test_one_pattern_tuple_and_no_pattern() -> None:
    be = get_backend(name="numpy")
    src, tgt = full_level((2, 2, 2), 1), full_level((2, 2, 2), 3)
    (plan,) = gather_plans(be, 3, src, tgt, 0, (0, 2))
    assert isinstance(plan, GatherPlan) and plan.pattern == (0, 2) and plan.masked == 2
    assert src.groups[plan.source_group].sets[plan.locations[0]].tolist() == [1]
    assert plan.layout == perm_plan(tgt.groups[0].signature, (0, 2))
    assert gather_plans(be, 3, full_level((2, 2, 2), 3), full_level((2, 2, 2), 2), 0, 4) == []


def test_removal_ranks_refuse_unsorted_or_wrong_patterns() -> None:
    from exactmd.errors import ValidationError

    drop = removal_ranks(np.array([[0, 2, 3], [1, 2, 4]]), 5, 2)
    for bad in [(2, 0), (1, 1), (0,), (0, 3)]:
        with pytest.raises(ValidationError, match=r"patterns: must be 2 strictly increasing"):
            drop(bad)


def test_a_level_with_repeated_sets_is_not_taken_for_a_full_one() -> None:
    """The direct lookup is used only when the level holds every set once (ranks 0..C-1);
    otherwise the checked search runs, and a set that is not in the level is refused."""
    from exactmd.errors import ValidationError
    from exactmd.sampler._levels import Level

    level = Level((2, 2, 2), np.array([[0, 1], [0, 1], [0, 2]]))
    with pytest.raises(ValidationError, match="not in this level"):
        level.locate(np.array([[1, 2]]))
    full = full_level((2, 2, 2), 2)
    assert [int(x) for x in full.locate(np.array([[1, 2], [0, 1]]))[1]] == [2, 0]


def test_engine_caches_tell_apart_two_fixed_sets_of_one_size() -> None:
    """Levels are cache keys by their program key (``Level.key``): a program that holds the
    single sets {0} and {1} in the same step (a mixture of two partitions) gets each its own
    conditionals. Against the brute force: the mixture's law is the average of the two
    partitions' laws, each computed by the same kind of walk over joint draws."""
    from helpers import random_law
    from sampler_brute import brute_output

    from exactmd.law.distribution import as_distribution
    from exactmd.sampler._levels import single_level
    from exactmd.sampler._plan import SamplerPlan
    from exactmd.sampler.p_alg import _run
    from exactmd.schedules.program import LevelMove, LevelProgram

    class TwoOrders:
        def level_program(self, n: int, exact: bool = False) -> LevelProgram:
            first = (LevelMove((), (0,), (0,), 0.5), LevelMove((), (1,), (1,), 0.5))
            second = (
                LevelMove((0,), (0, 1, 2), (1, 2), 1.0),
                LevelMove((1,), (0, 1, 2), (0, 2), 1.0),
            )
            return LevelProgram((first, second), (0, 1, 2))

    assert single_level((2, 3, 2), (1,)).key == (1,) != single_level((2, 3, 2), (0,)).key
    assert full_level((2, 3, 2), 1).key == 1
    p = random_law((2, 3, 2), seed=21, zeros=0.3)
    d = as_distribution(p)
    sched = TwoOrders()
    plan = SamplerPlan(0, 0, 2**16, 2**19, {})  # sampler_plan plans one move per fixed step
    bar = type("Bar", (), {"update": lambda self, k: None})()
    got = d.backend.to_numpy(_run(d, sched, None, bar, plan)).reshape(p.shape)  # type: ignore[arg-type]
    want = 0.5 * brute_output(p, [[0], [1, 2]]) + 0.5 * brute_output(p, [[1], [0, 2]])
    np.testing.assert_allclose(got, want, atol=1e-12)
