"""The sampler engine refuses a rule whose moves are not a law, or that rewrites the past."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import exactmd
from exactmd.errors import ScheduleError
from exactmd.samplers._records import Moves
from exactmd.samplers.base import SamplerSchedule


@dataclass(frozen=True, repr=False)
class Broken(SamplerSchedule):
    """Reveals the first masked position with value 0; ``flaw`` breaks one rule."""

    flaw: str = "none"

    def __repr__(self) -> str:
        return f"Broken({self.flaw!r})"

    def max_steps(self, n: int) -> int:
        return n

    def moves(self, batch):  # type: ignore[no-untyped-def]
        tok = np.array(batch.tokens)
        first = int(batch.masked[0])
        tok[:, first] = 0
        w = np.ones(len(tok))
        if self.flaw == "mass":
            w = w * 0.9  # the moves of a state sum to 0.9
        if self.flaw == "negative":
            w = -w
        if self.flaw == "rewrite" and batch.step > 0:
            tok[:, 0] = 1 - tok[:, 0]  # position 0 was revealed at step 0
        if self.flaw == "range":
            tok[:, first] = 5
        return Moves(np.arange(len(tok)), tok, w)


def test_a_sound_rule_gives_its_law() -> None:
    p = np.full((2, 2, 2), 0.125)
    law = exactmd.output_distribution(p, Broken())
    assert law[0, 0, 0] == 1.0 and law.sum() == 1.0


@pytest.mark.parametrize(
    "flaw,message",
    [
        ("mass", r"weights summing to 1; received 0.9 at step 0, tokens \[2, 2, 2\]"),
        ("negative", "negative or non-finite weight"),
        ("rewrite", "changed a revealed value"),
        ("range", "wrote a value out of range"),
    ],
)
def test_a_broken_rule_is_refused(flaw: str, message: str) -> None:
    p = np.full((2, 2, 2), 0.125)
    with pytest.raises(ScheduleError, match=message):
        exactmd.output_distribution(p, Broken(flaw))
