"""pytest plugin of exactmd: registers :mod:`exactmd.testing` for assertion rewriting.

Loaded through the ``pytest11`` entry point ``exactmd = "exactmd.testing.plugin"``. It imports
only pytest (not :mod:`exactmd.testing`, which must not be imported before registration), so
plain ``assert`` statements inside ``exactmd.testing`` show their operands when they fail.
The public assertions of ``exactmd.testing`` build their own messages and work without it.
"""

from __future__ import annotations

import sys

import pytest

__all__: list[str] = []

if "exactmd.testing" not in sys.modules:  # too late otherwise (e.g. doctest collection)
    pytest.register_assert_rewrite("exactmd.testing")
