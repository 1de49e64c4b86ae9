"""An exact brute-force oracle for symbolic laws, written independently of exactmd.

Everything is sympy arithmetic on dicts ``{x: probability}``, by definitions and enumeration:

- marginals by summing the joint over the outcomes that agree on a subset;
- subset entropies ``-Σ m log m`` over the marginal cells (``0 log 0 = 0`` for exact zeros);
- the information profile by averaging ``log π(x_σ(i+1) | x_σ(1..i))`` over ALL permutations σ;
- the ordered partitions a schedule draws, with their probabilities: every ordered partition of
  the given sizes obtained from a permutation (exchangeable, all equally likely), the partition
  itself (deterministic), or each position picking its reveal step k independently with
  probability ``t_{k−1} − t_k`` (random reveal, the grid read as the decimals it prints as);
- E_fact from its definition (expected TC of each block given the past), p_alg by pushing the
  mass forward block by block (uniform on a context of probability exactly 0), E_learn by
  summing the KLs over every context reached, and KL by its sum.

No exactmd code is imported here: the tests compare exactmd's backend path against this.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

Outcome = tuple[int, ...]
Law = dict[Outcome, Any]
Partition = tuple[tuple[int, ...], ...]

__all__ = [
    "as_law",
    "is_zero",
    "subset_entropy",
    "profile",
    "partitions_of",
    "factorization_error",
    "output_distribution",
    "learning_error",
    "kl",
]


def as_law(table: Any) -> tuple[Law, tuple[int, ...]]:
    """A table (sympy array, numpy object array, nested lists) as ``({x: p(x)}, shape)``."""
    arr = np.asarray(table.tolist() if hasattr(table, "tolist") else table, dtype=object)
    law = {x: sp.sympify(arr[x]) for x in itertools.product(*(range(s) for s in arr.shape))}
    return law, tuple(arr.shape)


def is_zero(expr: Any) -> bool:
    """Whether an exact expression is 0: logs of rationals split into logs of primes, expanded
    (and, with free symbols, ``sympy.simplify`` after ``expand_log(force=True)``)."""
    e = sp.expand(sp.sympify(expr))
    logs = {}
    for lg in e.atoms(sp.log):
        arg = lg.args[0]
        if arg.is_Rational and arg.is_positive:
            num, den = sp.fraction(arg)
            parts = [k * sp.log(p) for p, k in sp.factorint(num).items()]
            parts += [-k * sp.log(p) for p, k in sp.factorint(den).items()]
            logs[lg] = sp.Add(*parts)
    e = sp.expand(e.xreplace(logs))
    if e == 0:
        return True
    if not e.free_symbols:
        return False
    return bool(sp.simplify(sp.expand_log(e, force=True)) == 0)


def _marginal(law: Law, fixed: dict[int, int]) -> Any:
    return sp.Add(*(v for y, v in law.items() if all(y[j] == a for j, a in fixed.items())))


def subset_entropy(law: Law, subset: Sequence[int]) -> Any:
    cells: dict[Outcome, Any] = {}
    for x, v in law.items():
        key = tuple(x[i] for i in subset)
        cells[key] = cells.get(key, sp.Integer(0)) + v
    return sp.Add(*(-m * sp.log(m) for m in cells.values() if not sp.sympify(m).is_zero))


def _log_ratio(law: Law, x: Outcome, new: Sequence[int], given: Sequence[int]) -> Any:
    """``log π(x_new | x_given)`` (the joint of ``new`` given ``given``)."""
    num = _marginal(law, {j: x[j] for j in (*given, *new)})
    den = _marginal(law, {j: x[j] for j in given})
    return sp.log(num) - sp.log(den)


def profile(law: Law, n: int) -> list[Any]:
    """f(i) = E[log π(x_σ(i+1) | x_σ(1..i))], averaged over all n! permutations."""
    perms = list(itertools.permutations(range(n)))
    out = []
    for i in range(n):
        terms = [
            v * _log_ratio(law, x, [s[i]], s[:i])
            for s in perms
            for x, v in law.items()
            if not v.is_zero
        ]
        out.append(sp.Add(*terms) / len(perms))
    return out


def _exact_time(t: Any) -> Any:
    return sp.Rational(str(Fraction(repr(float(t))))) if isinstance(t, float) else sp.sympify(t)


def partitions_of(n: int, schedule: Any) -> dict[Partition, Any]:
    """The ordered partitions a schedule draws, with their exact probabilities.

    ``schedule`` is ``("sizes", [s_1, …])``, ``("partition", [[…], …])`` or
    ``("grid", [1, t_1, …, 0])``; a random-reveal partition keeps its empty steps out.
    """
    kind, value = schedule
    if kind == "partition":
        return {tuple(tuple(sorted(b)) for b in value): sp.Integer(1)}
    if kind == "sizes":
        bounds = [0, *itertools.accumulate(value)]
        found = {
            tuple(tuple(sorted(perm[a:b])) for a, b in itertools.pairwise(bounds))
            for perm in itertools.permutations(range(n))
        }
        return {part: sp.Rational(1, len(found)) for part in sorted(found)}
    grid = [_exact_time(t) for t in value]
    steps = [grid[k - 1] - grid[k] for k in range(1, len(grid))]
    out: dict[Partition, Any] = {}
    for assign in itertools.product(range(len(steps)), repeat=n):
        weight = sp.Mul(*(steps[k] for k in assign))
        blocks = tuple(tuple(i for i in range(n) if assign[i] == k) for k in range(len(steps)))
        key = tuple(b for b in blocks if b)
        out[key] = out.get(key, sp.Integer(0)) + weight
    return out


def factorization_error(law: Law, n: int, schedule: Any) -> Any:
    """E_fact = Σ_z P(z) Σ_k E[log π(x_{z_k} | x_c) − Σ_{i∈z_k} log π(x_i | x_c)]."""
    total = []
    for part, weight in partitions_of(n, schedule).items():
        context: list[int] = []
        for block in part:
            for x, v in law.items():
                if v.is_zero:
                    continue
                joint = _log_ratio(law, x, block, context)
                singles = sp.Add(*(_log_ratio(law, x, [i], context) for i in block))
                total.append(weight * v * (joint - singles))
            context.extend(block)
    return sp.Add(*total)


Rows = Callable[[dict[int, int], int], list[Any]]


def _exact_rows(law: Law, shape: tuple[int, ...]) -> Rows:
    """π(x_i = · | x_fixed), uniform on a context of probability exactly 0."""

    def rows(fixed: dict[int, int], i: int) -> list[Any]:
        den = _marginal(law, fixed)
        if sp.sympify(den).is_zero:
            return [sp.Rational(1, shape[i])] * shape[i]
        return [_marginal(law, {**fixed, i: v}) / den for v in range(shape[i])]

    return rows


def _model_rows(denoiser: Any, shape: tuple[int, ...]) -> Rows:
    """A contract denoiser's rows, called on one masked sequence, read exactly."""
    n, q = len(shape), max(shape)

    def rows(fixed: dict[int, int], i: int) -> list[Any]:
        tokens = np.array([[fixed.get(j, q) for j in range(n)]], dtype=np.int64)
        out = np.asarray(denoiser(tokens), dtype=object)
        return [_exact_time(v) for v in out[0, i, : shape[i]].tolist()]

    return rows


def output_distribution(
    law: Law, shape: tuple[int, ...], schedule: Any, denoiser: Any = None
) -> Law:
    """p_alg: each block's positions drawn independently from the denoiser given the past."""
    rows = _exact_rows(law, shape) if denoiser is None else _model_rows(denoiser, shape)
    out: Law = dict.fromkeys(law, sp.Integer(0))
    for part, weight in partitions_of(len(shape), schedule).items():
        states: dict[tuple[tuple[int, int], ...], Any] = {(): weight}
        for block in part:
            new: dict[tuple[tuple[int, int], ...], Any] = {}
            for ctx, mass in states.items():
                fixed = dict(ctx)
                conds = [rows(fixed, i) for i in block]
                for vals in itertools.product(*(range(shape[i]) for i in block)):
                    w = mass * sp.Mul(*(c[a] for c, a in zip(conds, vals, strict=True)))
                    key = tuple(sorted((*ctx, *zip(block, vals, strict=True))))
                    new[key] = new.get(key, sp.Integer(0)) + w
            states = new
        for ctx, mass in states.items():
            x = tuple(a for _, a in sorted(ctx))
            out[x] = out[x] + mass
    return out


def learning_error(law: Law, shape: tuple[int, ...], schedule: Any, denoiser: Any) -> Any:
    """E_learn = Σ_z P(z) Σ_x π(x) Σ_k Σ_{i∈z_k} KL(π(· | x_c) ‖ p(· | x_c)); ``oo`` when the
    denoiser puts an exact 0 where π does not."""
    exact, model = _exact_rows(law, shape), _model_rows(denoiser, shape)
    total = []
    for part, weight in partitions_of(len(shape), schedule).items():
        for x, v in law.items():
            if v.is_zero:
                continue
            context: list[int] = []
            for block in part:
                fixed = {j: x[j] for j in context}
                for i in block:
                    for a, b in zip(exact(fixed, i), model(fixed, i), strict=True):
                        if sp.sympify(a).is_zero:
                            continue
                        if sp.sympify(b).is_zero:
                            return sp.oo
                        total.append(weight * v * a * (sp.log(a) - sp.log(b)))
                context.extend(block)
    return sp.Add(*total)


def kl(p: Law, r: Law) -> Any:
    terms = []
    for x, a in p.items():
        if a.is_zero:
            continue
        if sp.sympify(r[x]).is_zero:
            return sp.oo
        terms.append(a * (sp.log(a) - sp.log(r[x])))
    return sp.Add(*terms)
