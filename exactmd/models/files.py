"""Model files: :func:`load` for BIF, XMLBIF, UAI and ``.npy`` joints, and shipped examples.

BIF and XMLBIF files are read with pgmpy's readers (which match CPD rows and columns by state
name); UAI files with :mod:`exactmd.models.uai`, which follows the UAI spec (pgmpy 1.1's
``UAIReader`` misreads the ``BAYES`` tables of spec-conforming files).

The examples are small classic Bayesian networks written as BIF files from their published
tables (as distributed by the bnlearn repository) and shipped inside the package, so
:func:`load_example` works offline. pgmpy's own example loader downloads from a hub and is
never called.

============== === ====================================================================
name            N  source
============== === ====================================================================
``asia``         8  Lauritzen & Spiegelhalter (1988), the "chest clinic"
``cancer``       5  Korb & Nicholson (2010), Bayesian Artificial Intelligence
``earthquake``   5  Korb & Nicholson (2010), the burglary alarm
``survey``       6  Scutari & Denis (2014), Bayesian Networks with Examples in R
``sachs``       11  Sachs et al. (2005), protein signalling, 3 states each (3^11 cells)
============== === ====================================================================

pgmpy's ``BIFReader`` builds its pyparsing grammar on every construction (about 0.5-3 s, most
of a read); :func:`read_model` and :func:`load` use a subclass that builds it once per process
and reuses it, so a repeated load costs only the parse itself (tens of milliseconds).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from exactmd.errors import DistributionError, ModelError, describe
from exactmd.law.distribution import Distribution, as_distribution
from exactmd.models._base import one_line, plan_cells, quiet_pgmpy, resolve_backend
from exactmd.models.bif_checks import check_bif, check_xmlbif, read_text
from exactmd.models.pgmpy_models import from_pgmpy, joint_from_factors
from exactmd.models.uai import read_uai, uai_factors, uai_to_pgmpy

__all__ = [
    "load",
    "load_example",
    "read_model",
    "file_shape",
    "npy_header",
    "EXAMPLES",
    "FORMATS",
    "example_path",
]

#: The shipped example networks, name -> one-line description.
EXAMPLES: dict[str, str] = {
    "asia": "Lauritzen & Spiegelhalter (1988) chest clinic, 8 binary variables",
    "cancer": "Korb & Nicholson (2010) lung cancer, 5 binary variables",
    "earthquake": "Korb & Nicholson (2010) burglary alarm, 5 binary variables",
    "survey": "Scutari & Denis (2014) travel survey, 6 variables with 2 or 3 states",
    "sachs": "Sachs et al. (2005) protein signalling, 11 variables with 3 states",
}

#: File suffix -> format name.
FORMATS: dict[str, str] = {
    ".bif": "BIF",
    ".xmlbif": "XMLBIF",
    ".xml": "XMLBIF",
    ".uai": "UAI",
    ".npy": "npy",
}


def _format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ModelError(
            f"path: cannot tell the format of '{path}' from its suffix {path.suffix!r}; "
            f"expected one of {', '.join(FORMATS)}"
        )
    return fmt


def _check_file(path: str | os.PathLike[str]) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ModelError(f"path: must be a file path; received {describe(path)}")
    p = Path(path)
    if not p.exists():
        raise ModelError(f"path: file '{p}' does not exist")
    if not p.is_file():
        raise ModelError(f"path: '{p}' is not a file")
    return p


def read_model(path: str | os.PathLike[str]) -> Any:
    """Read a BIF, XMLBIF or UAI file into a pgmpy model (no enumeration).

    UAI files are parsed by :func:`exactmd.models.uai.read_uai` and converted.

    Parameters
    ----------
    path
        A ``.bif``, ``.xmlbif``/``.xml`` or ``.uai`` file.

    Returns
    -------
    pgmpy.models.DiscreteBayesianNetwork or pgmpy.models.DiscreteMarkovNetwork

    Raises
    ------
    ModelError
        A missing file, an unknown suffix, or a file pgmpy cannot parse; one line naming the file
        and what is wrong.

    Examples
    --------
    >>> bn = read_model(example_path("cancer"))
    >>> sorted(bn.get_parents("Cancer"))
    ['Pollution', 'Smoker']
    """
    p = _check_file(path)
    fmt = _format(p)
    if fmt == "npy":
        raise ModelError(f"path: '{p}' is a .npy joint, not a graphical model; use load()")
    if fmt == "UAI":
        return uai_to_pgmpy(read_uai(p))
    try:
        from pgmpy.readwrite import BIFReader, XMLBIFReader
    except ImportError as exc:  # pragma: no cover - exercised only without pgmpy
        raise ImportError(
            f"reading {fmt} files needs pgmpy: pip install 'exactmd[models]'"
        ) from exc
    # our own structural checks first: pgmpy answers many malformed files with AttributeError,
    # KeyError or a reshape error that names neither the rule nor the value
    text = read_text(p, fmt)
    (check_bif if fmt == "BIF" else check_xmlbif)(text, p)
    reader = {"BIF": _bif_reader(BIFReader), "XMLBIF": XMLBIFReader}[fmt]
    with quiet_pgmpy():
        try:
            model = reader(path=str(p)).get_model()
        except Exception as exc:  # pyparsing, XML and pgmpy raise many kinds
            raise ModelError(f"path: could not parse '{p}' as {fmt}: {one_line(exc)}") from exc
    if model.number_of_nodes() == 0:
        raise ModelError(f"path: '{p}' parsed as {fmt} but defines no variables")
    return model


@functools.cache
def _bif_reader(base: type) -> type:
    """``base`` (pgmpy's ``BIFReader``) with its two grammar builders memoised per process.

    The grammars are stateless pyparsing expressions that do not depend on the reader (pgmpy's
    methods never read ``self``), so one pair serves every file. Should a pgmpy release drop
    these methods, ``base`` itself is returned.
    """
    names = ("get_variable_grammar", "get_probability_grammar")
    if not all(callable(getattr(base, m, None)) for m in names):  # pragma: no cover
        return base
    built: dict[str, Any] = {}

    def memo(method: str) -> Any:
        def grammar(self: Any) -> Any:
            if method not in built:
                built[method] = getattr(base, method)(self)
            return built[method]

        grammar.__name__ = method
        return grammar

    return type("BIFReaderOneGrammar", (base,), {m: memo(m) for m in names})


def npy_header(p: Path) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """``(shape, dtype)`` of a ``.npy`` file from its header alone (nothing is unpickled or
    loaded); a :class:`ModelError` naming the file for anything but a real-number array.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "p.npy"
    ...     np.save(path, np.full((2, 3), 1 / 6))
    ...     npy_header(path)
    ((2, 3), dtype('float64'))
    """
    try:
        with open(p, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise ModelError(f"path: could not read '{p}' as .npy: {one_line(exc)}") from exc
    if dtype.kind not in "biuf":
        raise ModelError(
            f"path: '{p}': a .npy joint must hold real numbers (bool, int or float); received "
            f"dtype {dtype}{' (pickled objects are never loaded)' if dtype.hasobject else ''}"
        )
    return tuple(int(q) for q in shape), dtype


def _load_npy(p: Path, backend: str | None, device: Any) -> Distribution:
    be = resolve_backend(backend, device)
    shape, _ = npy_header(p)
    plan_cells(shape, be, copies=2.0, name="path")
    try:
        arr = np.load(p, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ModelError(f"path: could not read '{p}' as .npy: {one_line(exc)}") from exc
    try:
        return as_distribution(np.array(arr), backend=be.name, device=device, name=f"'{p}'")
    except DistributionError as exc:
        raise ModelError(f"path: '{p}' does not hold a joint law: {exc}") from exc


def file_shape(path: str | os.PathLike[str]) -> tuple[int, ...] | None:
    """The shape of the joint a model file describes, without enumerating it: the header of a
    ``.npy``, the cardinalities a UAI, BIF or XMLBIF file declares (in :func:`load`'s default
    order). None when the file is readable but its shape cannot be told (:func:`load` then
    says what is wrong); a :class:`ModelError` for a missing or malformed file.

    Examples
    --------
    >>> file_shape(example_path("survey"))
    (3, 2, 2, 2, 2, 3)
    """
    p = _check_file(path)
    fmt = _format(p)
    if fmt == "npy":
        return npy_header(p)[0]
    if fmt == "UAI":
        return tuple(read_uai(p).cards)
    model = read_model(p)
    cards: dict[Any, int] = {}
    for cpd in model.get_cpds() if hasattr(model, "get_cpds") else ():
        cards[cpd.variable] = int(cpd.cardinality[0])
    nodes = list(model.nodes())
    return tuple(cards[v] for v in nodes) if all(v in cards for v in nodes) else None


def _load_uai(
    p: Path, order: Sequence[Any] | None, backend: str | None, device: Any
) -> Distribution:
    m = read_uai(p)
    names = m.names
    perm = list(range(len(names)))
    if order is not None:
        by_name = {name: i for i, name in enumerate(names)}
        perm = [by_name.get(str(v), -1) for v in order]
        if sorted(perm) != list(range(len(names))):
            raise ModelError(
                f"order: must list each of {describe(names)} exactly once; received "
                f"{describe(list(order))}"
            )
    new_axis = {old: new for new, old in enumerate(perm)}
    factors = [(t, [new_axis[a] for a in axes]) for t, axes in uai_factors(m)]
    try:
        return joint_from_factors(
            factors,
            [m.cards[i] for i in perm],
            [names[i] for i in perm],
            backend=backend,
            device=device,
        )
    except ModelError as exc:
        raise type(exc)(f"path: '{p}': {exc}") from exc


def load(
    path: str | os.PathLike[str],
    order: Sequence[Any] | None = None,
    *,
    backend: str | None = None,
    device: Any = None,
) -> Distribution:
    """Load a model file as its exact joint law.

    Parameters
    ----------
    path
        ``.bif``, ``.xmlbif``/``.xml`` (read with pgmpy's readers, enumerated by
        :func:`~exactmd.models.from_pgmpy`), ``.uai`` (read by :mod:`exactmd.models.uai` per
        the UAI spec, ``BAYES`` or ``MARKOV``; a ``MARKOV`` variable without a factor is
        uniform) or ``.npy`` (a saved joint table of shape ``(q_0, …, q_{N-1})`` summing to 1).
    order
        Axis order for graphical models (default: the order the file declares its variables;
        UAI files name them ``var_0``, ``var_1``, …). Not allowed for ``.npy``.
    backend, device
        Where the joint lives (numpy by default).

    Returns
    -------
    Distribution
        With the file's variable and state names (``X0``, ``X1``, … for ``.npy``).

    Raises
    ------
    ModelError
        A missing or malformed file, as one line naming the file and what is wrong; a model that
        fails :func:`~exactmd.models.from_pgmpy`'s checks, or is too large to enumerate.

    Examples
    --------
    >>> d = load(example_path("earthquake"))
    >>> d.names
    ('Burglary', 'Earthquake', 'Alarm', 'JohnCalls', 'MaryCalls')
    >>> d.state_names[0]
    ('True', 'False')
    """
    p = _check_file(path)
    if _format(p) == "npy":
        if order is not None:
            raise ModelError(f"order: a .npy joint has no variable names; received {order!r}")
        return _load_npy(p, backend, device)
    if _format(p) == "UAI":
        return _load_uai(p, order, backend, device)
    model = read_model(p)
    try:
        return from_pgmpy(model, order, backend=backend, device=device)
    except ModelError as exc:
        raise type(exc)(f"path: '{p}': {exc}") from exc


def example_path(name: str) -> Path:
    """The path of a shipped example network's BIF file.

    Examples
    --------
    >>> example_path("asia").name
    'asia.bif'
    """
    if name not in EXAMPLES:
        raise ModelError(
            f"name: unknown example {name!r}; the shipped examples are {', '.join(EXAMPLES)}"
        )
    return Path(str(resources.files("exactmd.models").joinpath("data").joinpath(f"{name}.bif")))


def load_example(
    name: str,
    order: Sequence[Any] | None = None,
    *,
    backend: str | None = None,
    device: Any = None,
) -> Distribution:
    """Load a shipped example network (offline) as its exact joint law.

    Parameters
    ----------
    name
        One of :data:`EXAMPLES`: ``asia``, ``cancer``, ``earthquake``, ``survey``,
        ``sachs``.
    order, backend, device
        As in :func:`load`.

    Examples
    --------
    >>> d = load_example("asia")
    >>> d.n, d.names[:3]
    (8, ('asia', 'tub', 'smoke'))
    >>> round(float(d.numpy().sum()), 12)
    1.0
    """
    return load(example_path(name), order, backend=backend, device=device)
