"""Structural checks of BIF and XMLBIF files, run before pgmpy's readers.

pgmpy's readers answer a malformed file with whatever their code hits first
(``AttributeError: 'NoneType' object has no attribute 'text'``, ``KeyError: 'B'``, a reshape
error, or a silent NaN). :func:`check_bif` and :func:`check_xmlbif` read the declarations and
tables themselves and raise a :class:`~exactmd.errors.ModelError` naming the file, the rule
broken and the offending value:

- every variable has a name, at least one state (as many as a BIF ``[ K ]`` declares) and no
  repeated state; no variable is declared twice;
- every table is for a declared variable, given declared parents, appears once per variable and
  every variable has one;
- every probability is a finite number >= 0, and a table has exactly
  ``|child| × Π |parents|`` of them (BIF rows: one per parent configuration, each naming
  declared parent states and holding ``|child|`` numbers).

Examples
--------
>>> check_bif("variable A { type discrete [ 2 ] { x, y }; } probability ( A ) { table 0.5; }",
...           "a.bif")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
exactmd.errors.ModelError: path: 'a.bif': the table of A must hold |A| = 2 numbers; received 1 ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from exactmd.errors import ModelError, describe

__all__ = ["read_text", "check_bif", "check_xmlbif"]


def read_text(path: Any, fmt: str) -> str:
    """The text of a model file, or a :class:`ModelError` for a file that is not UTF-8 text.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "x.bif")
    ...     with open(p, "wb") as fh:
    ...         _ = fh.write(b"\\x80\\x81")
    ...     read_text(p, "BIF")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelError: path: '...x.bif': a BIF file must be UTF-8 text; byte 0x80 at ...
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ModelError(f"path: could not read '{path}': {exc}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(
            f"path: '{path}': a {fmt} file must be UTF-8 text; byte 0x{data[exc.start]:02x} at "
            f"offset {exc.start} is not"
        ) from None


def _fail(path: Any, message: str) -> ModelError:
    return ModelError(f"path: '{path}': {message}")


def _numbers(path: Any, text: str, what: str) -> list[float]:
    out = []
    for tok in filter(None, re.split(r"[\s,]+", text.strip())):
        try:
            value = float(tok)
        except ValueError:
            raise _fail(path, f"{what} must hold numbers; received {tok!r}") from None
        if not math.isfinite(value) or value < 0:
            raise _fail(path, f"{what} must hold finite numbers >= 0; received {tok!r}")
        out.append(value)
    return out


def _check_tables(
    path: Any,
    states: dict[str, list[str]],
    tables: dict[str, tuple[list[str], list[float]]],
    unit: str,
) -> None:
    """Declared parents, one table per variable, ``|child| × Π |parents|`` numbers each."""
    declared = ", ".join(states)
    for child, (parents, values) in tables.items():
        for v in (child, *parents):
            if v not in states:
                raise _fail(
                    path,
                    f"the {unit} of {child} names the variable {v!r}, which is not declared; "
                    f"declared: {describe(declared)}",
                )
        if child in parents or len(set(parents)) != len(parents):
            raise _fail(path, f"the parents of {child} must be distinct others; received {parents}")
        need = len(states[child]) * math.prod(len(states[p]) for p in parents)
        if len(values) != need:
            card = f"|{child}|" + "".join(f" × |{p}|" for p in parents)
            raise _fail(
                path,
                f"the table of {child} must hold {card} = {need} numbers; received "
                f"{len(values)} ({describe(' '.join(f'{v:g}' for v in values), 40)})",
            )
    missing = [v for v in states if v not in tables]
    if missing:
        raise _fail(path, f"every variable needs a {unit}; none for {describe(missing)}")


def _check_states(path: Any, name: str, names: Sequence[str], declared: int | None) -> None:
    if not names:
        raise _fail(path, f"the variable {name} must have at least one state; received none")
    if declared is not None and declared != len(names):
        raise _fail(
            path,
            f"the variable {name} declares [ {declared} ] states but names {len(names)}: "
            f"{describe(list(names))}",
        )
    if len(set(names)) != len(names):
        raise _fail(
            path, f"the states of {name} must be distinct; received {describe(list(names))}"
        )


def check_xmlbif(text: str, path: Any) -> None:
    """Check an XMLBIF document (see the module docstring); raise :class:`ModelError`.

    Examples
    --------
    >>> check_xmlbif("<BIF><NETWORK><VARIABLE><NAME>A</NAME></VARIABLE></NETWORK></BIF>", "a.xml")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelError: path: 'a.xml': the variable A must have at least one state; ...
    """
    import xml.etree.ElementTree as ET

    if not text.strip():
        raise _fail(path, "an XMLBIF file must hold a <BIF> document; received an empty file")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise _fail(path, f"must be well-formed XML; {exc}") from None
    net = root.find("NETWORK")
    if net is None:
        raise _fail(path, f"the XML must have a <NETWORK> inside <BIF>; received <{root.tag}>")
    states: dict[str, list[str]] = {}
    for k, var in enumerate(net.findall("VARIABLE")):
        name = (var.findtext("NAME") or "").strip()
        if not name:
            raise _fail(path, f"<VARIABLE> number {k} must have a non-empty <NAME>")
        if name in states:
            raise _fail(path, f"the variable {name} is declared twice")
        outcomes = [(o.text or "").strip() for o in var.findall("OUTCOME")]
        _check_states(path, name, outcomes, None)
        states[name] = outcomes
    tables: dict[str, tuple[list[str], list[float]]] = {}
    for k, d in enumerate(net.findall("DEFINITION")):
        child = (d.findtext("FOR") or "").strip()
        if not child:
            raise _fail(path, f"<DEFINITION> number {k} must have a non-empty <FOR>")
        if child in tables:
            raise _fail(path, f"the variable {child} has two <DEFINITION>s")
        parents = [(g.text or "").strip() for g in d.findall("GIVEN")]
        table = d.findtext("TABLE")
        if table is None:
            raise _fail(path, f"the <DEFINITION> of {child} must have a <TABLE>")
        tables[child] = (parents, _numbers(path, table, f"the <TABLE> of {child}"))
    if not states:
        raise _fail(path, "the <NETWORK> declares no <VARIABLE>")
    _check_tables(path, states, tables, "<DEFINITION>")


_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_NAME = r"[^\s{}()\[\],;|]+"


def _blocks(text: str, path: Any) -> list[tuple[str, str]]:
    """Top-level ``header { body }`` blocks of a BIF text (nested braces kept in the body)."""
    out, depth, start, head = [], 0, 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            if depth == 0:
                raise _fail(path, f"an unmatched '}}' at offset {i}")
            depth -= 1
            if depth == 0:
                out.append((" ".join(text[head:start].split()), text[start + 1 : i]))
                head = i + 1
    if depth:
        where = " ".join(text[head:start].split()) or "the file"
        raise _fail(
            path, f"the file ends inside the block {describe(where, 60)} (an unclosed '{{')"
        )
    return out


def check_bif(text: str, path: Any) -> None:
    """Check a BIF text (see the module docstring); raise :class:`ModelError`.

    Examples
    --------
    >>> check_bif("variable A { type discrete [ 2 ] { x, y }; } "
    ...           "probability ( A | B ) { table 0.5, 0.5; }", "a.bif")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    exactmd.errors.ModelError: path: 'a.bif': the probability block of A names the variable 'B', ...
    """
    blocks = _blocks(_COMMENTS.sub(" ", text), path)
    states: dict[str, list[str]] = {}
    probs: list[tuple[str, list[str], str]] = []
    for head, body in blocks:
        word = head.split(" ", 1)[0].lower()
        if word == "variable":
            m = re.fullmatch(rf"variable ({_NAME})", head)
            if not m:
                raise _fail(path, f"a variable block needs one name; received {describe(head)}")
            name = m.group(1)
            t = re.search(r"type\s+discrete\s*\[\s*(\d+)\s*\]\s*\{([^}]*)\}", body)
            if not t:
                raise _fail(
                    path,
                    f"the variable {name} must declare 'type discrete [ K ] {{ s1, ..., sK }};'; "
                    f"received {describe(' '.join(body.split()))}",
                )
            if name in states:
                raise _fail(path, f"the variable {name} is declared twice")
            names = [s.strip() for s in t.group(2).split(",") if s.strip()]
            _check_states(path, name, names, int(t.group(1)))
            states[name] = names
        elif word == "probability":
            m = re.fullmatch(rf"probability \( ?({_NAME}) ?(?:\| ?([^)]*?))? ?\)", head)
            if not m:
                raise _fail(
                    path, f"a probability block needs '( child | parents )'; received {head!r}"
                )
            parents = [p.strip() for p in (m.group(2) or "").split(",") if p.strip()]
            probs.append((m.group(1), parents, body))
        elif word != "network":
            raise _fail(path, f"blocks must be network, variable or probability; received {head!r}")
    if not states:
        raise _fail(path, "parsed as BIF but defines no variables")
    tables: dict[str, tuple[list[str], list[float]]] = {}
    for child, parents, body in probs:
        if child in tables:
            raise _fail(path, f"the variable {child} has two probability blocks")
        for v in (child, *parents):
            if v not in states:
                raise _fail(
                    path,
                    f"the probability block of {child} names the variable {v!r}, which is not "
                    f"declared; declared: {describe(', '.join(states))}",
                )
        tables[child] = (parents, _bif_values(path, child, parents, body, states))
    _check_tables(path, states, tables, "probability block")


def _bif_values(
    path: Any, child: str, parents: list[str], body: str, states: dict[str, list[str]]
) -> list[float]:
    """The numbers of a probability block, rows checked against the parents' states."""
    q = len(states[child])
    values: list[float] = []
    seen: set[tuple[str, ...]] = set()
    for stmt in filter(None, (s.strip() for s in body.split(";"))):
        if stmt.startswith("table"):
            values += _numbers(path, stmt[5:], f"the table of {child}")
            continue
        row = re.fullmatch(r"\(([^)]*)\)(.*)", stmt, re.S)
        if not row:
            raise _fail(path, f"the probability block of {child} has a bad entry {describe(stmt)}")
        key = tuple(s.strip() for s in row.group(1).split(","))
        if len(key) != len(parents) or any(
            s not in states[p] for s, p in zip(key, parents, strict=False)
        ):
            expect = ", ".join(f"{p} in {describe(states[p], 40)}" for p in parents)
            raise _fail(
                path,
                f"a row of the probability block of {child} must name one state of each parent "
                f"({expect}); received ({', '.join(key)})",
            )
        if key in seen:
            raise _fail(
                path, f"the probability block of {child} repeats the row ({', '.join(key)})"
            )
        seen.add(key)
        nums = _numbers(path, row.group(2), f"the row ({', '.join(key)}) of {child}")
        if len(nums) != q:
            raise _fail(
                path,
                f"the row ({', '.join(key)}) of {child} must hold |{child}| = {q} numbers; "
                f"received {len(nums)}",
            )
        values += nums
    if seen and len(seen) != math.prod(len(states[p]) for p in parents):
        missing = next(c for c in _configs([states[p] for p in parents]) if c not in seen)
        raise _fail(
            path,
            f"the probability block of {child} must have a row for every parent configuration; "
            f"none for ({', '.join(missing)})",
        )
    return values


def _configs(state_lists: list[list[str]]) -> Any:
    import itertools

    return itertools.product(*state_lists)
