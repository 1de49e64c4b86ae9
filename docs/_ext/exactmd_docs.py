"""Sphinx glue for the exactmd site (local extension, loaded by ``docs/conf.py``).

- **API pages from ``__all__``.** At ``config-inited`` (before the sources are listed)
  every public name (``exactmd.__all__`` and each subpackage's ``__all__``) is given a
  page: one page per namespace is written to
  ``docs/api/generated/`` (not committed), and autosummary writes one stub per name. A name is
  documented once, at the top level when it is there, otherwise in the first subpackage that
  lists it; the other namespaces that list it link to that page. So the reference can never
  miss a name that a module exports.
- **References by object.** ``exactmd.measures.information.complexity`` (the defining module)
  and ``exactmd.measures.complexity`` (a re-export) are the same object as the documented
  ``exactmd.complexity``; a ``missing-reference`` handler resolves such names to the page of
  the documented alias, by object identity, instead of silencing them.
- **Links from the theory page.** ``docs/design.md`` stays plain Markdown (it reads on any
  forge); while it is included in ``theory.md``, inline code that names a public object
  (```check_bound```, ```exactmd.models.from_pgmpy```) becomes a link to its API page.
- **MathJax offline.** The MathJax 3 files shipped by the ``django-static-mathjax`` wheel
  (PyPI) are copied into ``_static/mathjax`` of the built site; no page loads anything from
  another host.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import shutil
import types
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: the subpackages whose ``__all__`` the reference covers, in pipeline order (bottom up)
SUBPACKAGES = (
    "backends",
    "law",
    "enumeration",
    "measures",
    "schedules",
    "denoisers",
    "sampler",
    "samplers",
    "models",
    "symbolic",
    "testing",
    "distributed",
)
#: modules outside the subpackages whose docstrings the reference shows (errors are cited
#: everywhere); the command line is documented in the getting-started page
EXTRA_MODULES = (
    "exactmd.errors",
    "exactmd.typing",
    "exactmd.cli",
    "exactmd.cli.report",
    "exactmd.cli.plotting",
    "exactmd._validate",
    "exactmd._progress",
)

#: the MathJax files the site needs (CommonHTML output, TeX input with its extensions)
MATHJAX_FILES = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y")

DOCS = Path(__file__).resolve().parent.parent
GENERATED = DOCS / "api" / "generated"


# --------------------------------------------------------------------------------------------
# the inventory of public names


def _kind(obj: Any) -> str:
    if isinstance(obj, types.ModuleType):
        return "module"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return "data"


def namespaces() -> list[str]:
    return ["exactmd", *(f"exactmd.{s}" for s in SUBPACKAGES)]


def public_names() -> dict[str, list[str]]:
    """``{namespace: its __all__}`` for the top level and every subpackage."""
    out = {}
    for ns in namespaces():
        module = importlib.import_module(ns)
        out[ns] = list(module.__all__)
    return out


def canonical_names() -> dict[str, str]:
    """``{"exactmd.measures.complexity": "exactmd.complexity", ...}``: where each name's page is.

    The top level wins; otherwise the first subpackage (pipeline order) that lists the object.
    Modules are not given a stub (they have their own namespace page).
    """
    where: dict[int, str] = {}
    canonical: dict[str, str] = {}
    for ns, names in public_names().items():
        module = importlib.import_module(ns)
        for name in names:
            obj = getattr(module, name)
            full = f"{ns}.{name}"
            if isinstance(obj, types.ModuleType):
                canonical[full] = obj.__name__
                continue
            # data (strings, tuples, dicts) may be equal by identity by accident (interned
            # strings, small ints): only functions and classes are matched by identity
            key = id(obj) if _kind(obj) != "data" else id(full)
            where.setdefault(key, full)
            canonical[full] = where[key]
    return canonical


def submodules(package: str) -> list[str]:
    """The package's submodules (private ones too), sorted."""
    module = importlib.import_module(package)
    paths = getattr(module, "__path__", None)
    if not paths:
        return []
    out = []
    for path in sorted(Path(paths[0]).glob("*.py")):
        if path.stem == "__init__" or path.stem == "__main__":
            continue
        out.append(f"{package}.{path.stem}")
    return out


# --------------------------------------------------------------------------------------------
# the generated pages

_KIND_TITLES = {
    "function": "Functions",
    "class": "Classes",
    "exception": "Exceptions",
    "data": "Constants",
}


_CONSTANT = re.compile(r"^([A-Z][A-Z0-9_]*)\s*(?::[^=]*)?=", re.M)


def _constants(module: types.ModuleType) -> list[str]:
    """Upper-case names assigned at the top of the module's source with no ``#:`` comment."""
    from sphinx.pycode import ModuleAnalyzer

    try:
        analyzer = ModuleAnalyzer.for_module(module.__name__)
        analyzer.analyze()
        source = analyzer.code
    except Exception:
        return []
    documented = {name for (ns, name) in analyzer.attr_docs if ns == ""}
    names = []
    for match in _CONSTANT.finditer(source):
        name = match.group(1)
        if name not in documented and name not in names and hasattr(module, name):
            names.append(name)
    return names


def _autosummary(names: list[str], toctree: bool) -> list[str]:
    lines = [".. autosummary::"]
    if toctree:
        lines += ["   :toctree: .", "   :nosignatures:"]
    else:
        lines += ["   :nosignatures:"]
    lines.append("")
    lines += [f"   {name}" for name in names]
    lines.append("")
    return lines


def namespace_page(ns: str, names: list[str], canonical: dict[str, str]) -> str:
    module = importlib.import_module(ns)
    title = f"``{ns}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {ns}", "   :no-members:", ""]
    lines += [f".. currentmodule:: {ns}", ""]
    namespaces_here = [n for n in names if isinstance(getattr(module, n), types.ModuleType)]
    if namespaces_here:
        lines += ["Namespaces", "----------", ""]
        lines += [f"- :mod:`{ns}.{n}`" for n in namespaces_here]
        lines.append("")
    own: dict[str, list[str]] = {}
    elsewhere: list[str] = []
    for name in names:
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):
            continue
        full = f"{ns}.{name}"
        if canonical[full] == full:
            own.setdefault(_kind(obj), []).append(name)
        else:
            elsewhere.append(canonical[full])
    for kind in ("function", "class", "exception", "data"):
        if kind in own:
            heading = _KIND_TITLES[kind]
            lines += [heading, "-" * len(heading), ""]
            lines += _autosummary(own[kind], toctree=True)
    if elsewhere:
        heading = "Also exported here"
        lines += [heading, "-" * len(heading), ""]
        lines += [
            f"These names of ``{ns}.__all__`` are the same objects as the ones documented at",
            "the link (``exactmd.X`` is the documented name of a name exported at the top level).",
            "",
        ]
        lines += _autosummary(sorted(elsewhere), toctree=False)
    documented = {id(_lookup(target)) for target in set(canonical.values())}
    mods = submodules(ns) if ns != "exactmd" else list(EXTRA_MODULES)
    public_mods = [m for m in mods if not m.rsplit(".", 1)[1].startswith("_")]
    private_mods = [m for m in mods if m.rsplit(".", 1)[1].startswith("_")]
    for heading, group, blurb in (
        (
            "Modules",
            public_mods,
            "The modules behind this namespace, with the helpers they define "
            "beyond the names above (import the public names from the namespace).",
        ),
        (
            "Internals",
            private_mods,
            "Private modules: documented because docstrings cite them; not part of the API.",
        ),
    ):
        if not group:
            continue
        lines += [heading, "-" * len(heading), "", blurb, ""]
        for mod in group:
            module_obj = importlib.import_module(mod)
            exclude = sorted(
                name
                for name, value in vars(module_obj).items()
                if not isinstance(value, types.ModuleType)
                and _kind(value) != "data"
                and id(value) in documented
            )
            sub = f"``{mod}``"
            lines += [
                sub,
                "^" * len(sub),
                "",
                f".. automodule:: {mod}",
                "   :members:",
                "   :show-inheritance:",
            ]
            parent, _, leaf = mod.rpartition(".")
            if getattr(importlib.import_module(parent), leaf, module_obj) is not module_obj:
                # the package exports a function of the module's name (exactmd.samplers.llada
                # is the builder): the module is shown, the name indexes the function
                lines.append("   :no-index:")
            if exclude:
                lines.append(f"   :exclude-members: {', '.join(exclude)}")
            lines.append("")
            # constants without a doc comment (autodoc skips them; docstrings cite them)
            for const in _constants(module_obj):
                lines += [f"   .. autodata:: {const}", ""]
    return "\n".join(lines) + "\n"


def write_api_pages(app: Sphinx, config: Any) -> None:
    """Write ``docs/api/generated/<namespace>.rst`` (only when the text changed)."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    canonical = canonical_names()
    wanted = set()
    for ns, names in public_names().items():
        path = GENERATED / f"{ns}.rst"
        wanted.add(path.name)
        text = namespace_page(ns, names, canonical)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    index = GENERATED / "index.rst"
    wanted.add(index.name)
    text = "\n".join(
        [
            ":orphan:",
            "",
            "Namespaces",
            "==========",
            "",
            ".. toctree::",
            "   :maxdepth: 1",
            "",
            *(f"   {ns}" for ns in namespaces()),
            "",
        ]
    )
    if not index.exists() or index.read_text() != text:
        index.write_text(text)


# --------------------------------------------------------------------------------------------
# references by object identity


def _lookup(dotted: str) -> Any:
    """The object a dotted name designates, or None (imports the longest module prefix)."""
    parts = dotted.split(".")
    if parts[0] != "exactmd":
        return None
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _documented(app: Sphinx) -> dict[int, list[str]]:
    """``{id(object): documented names}`` for every documented object."""
    # kept on the application (one build, one process), never on the pickled environment
    cached = getattr(app, "_exactmd_by_id", None)
    if cached is not None:
        return cached
    env = app.env
    by_id: dict[int, list[str]] = {}
    py = env.domains["py"]
    for name, _dispname, typ, _doc, _anchor, _prio in py.get_objects():
        if typ == "module":
            continue
        obj = _lookup(name)
        if obj is not None:
            by_id.setdefault(id(obj), []).append(name)
    app._exactmd_by_id = by_id  # type: ignore[attr-defined]
    return by_id


def _page_module(docname: str) -> str | None:
    """The defining module of the object a stub page documents (``api/generated/<name>``)."""
    if not docname.startswith("api/generated/"):
        return None
    obj = _lookup(docname.rsplit("/", 1)[1])
    if obj is None or isinstance(obj, types.ModuleType):
        return None
    return getattr(obj, "__module__", None)


def resolve_alias(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``exactmd.<path>.<name>`` to the documented alias of the same object.

    Tried in turn: the target as written, relative to the current class and module, and
    relative to the module that defines the object of the page (a docstring shown on the
    page of its top-level alias still names its own module's helpers by their short name).
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").lstrip(".~")
    module = node.get("py:module") or ""
    klass = node.get("py:class") or ""
    candidates = [target]
    for base in (module, _page_module(node.get("refdoc", ""))):
        if base:
            if klass:
                candidates.append(f"{base}.{klass}.{target}")
            candidates.append(f"{base}.{target}")
    by_id = _documented(app)
    py = env.domains["py"]
    for candidate in candidates:
        obj = _lookup(candidate)
        if obj is None:
            continue
        if isinstance(obj, types.ModuleType):
            name = obj.__name__
            if name in py.modules and name != target:
                return py.resolve_xref(
                    env, node["refdoc"], app.builder, "mod", name, node, contnode
                )
            continue
        last = candidate.rsplit(".", 1)[1]
        names = [n for n in by_id.get(id(obj), []) if n != target]
        if _kind(obj) == "data":
            names = [n for n in names if n.rsplit(".", 1)[1] == last]
        names.sort(key=lambda n: (n.rsplit(".", 1)[1] != last, n.count("."), n))
        for documented in names:
            for typ in (node.get("reftype", "obj"), "obj"):
                new = py.resolve_xref(
                    env, node["refdoc"], app.builder, typ, documented, node, contnode
                )
                if new is not None:
                    return new
    if "." not in target:
        # a bare name that is not in the current module: the one documented object of that
        # name anywhere in exactmd, as Sphinx's own search does for ``.name``
        found = {}
        for ids, names in by_id.items():
            for documented in names:
                if documented.rsplit(".", 1)[-1] == target:
                    found.setdefault(ids, documented)
        if len(found) == 1:
            documented = next(iter(found.values()))
            for typ in (node.get("reftype", "obj"), "obj"):
                new = py.resolve_xref(
                    env, node["refdoc"], app.builder, typ, documented, node, contnode
                )
                if new is not None:
                    return new
    return None


def factory_defaults(
    app: Sphinx,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    ret: str | None,
) -> tuple[str | None, str | None] | None:
    """``autodoc-process-signature``: a dataclass field's ``=<factory>`` default as ``=...``.

    ``<factory>`` is not Python, so Sphinx would split the signature at every comma
    (``dict[str, int]`` became two parameters).
    """
    if signature and "<factory>" in signature:
        return signature.replace("<factory>", "..."), ret
    return None


def public_bases(app: Sphinx, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """``autodoc-process-bases``: show a private base class (``_ChainBase``) as its bases."""
    out: list[Any] = []

    def add(base: Any) -> None:
        if getattr(base, "__name__", "").startswith("_") and inspect.isclass(base):
            for b in base.__bases__:
                add(b)
        elif base not in out:
            out.append(base)

    for base in bases:
        add(base)
    bases[:] = out


# --------------------------------------------------------------------------------------------
# links from the theory page


_CODE = re.compile(r"(?<![`\w])`([A-Za-z_][A-Za-z0-9_.]*)`(?!`)")


def _link_table() -> dict[str, str]:
    """Inline-code text -> documented target, for the public names and namespaces."""
    canonical = canonical_names()
    table: dict[str, str] = {}
    for full, target in canonical.items():
        table[full] = target
        short = full.rsplit(".", 1)[1]
        # a bare name links where the top level or its first subpackage documents it
        table.setdefault(short, target)
    for ns in namespaces():
        table[ns] = ns
    for ns in SUBPACKAGES:
        table.setdefault(f"exactmd.{ns}", f"exactmd.{ns}")
    # one-word names that are ordinary words in the prose are left as code
    for word in ("models", "symbolic", "testing", "sample", "exactmd"):
        table.pop(word, None)
    return table


def link_code_in_design(
    app: Sphinx, relative_path: Path, parent_docname: str, content: list[str]
) -> None:
    """``include-read``: in design.md (and oracle.md), link inline code naming a public object."""
    if relative_path.name not in ("design.md", "oracle.md"):
        return
    table = _link_table()
    text = content[0]

    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        target = table.get(name)
        if target is None:
            return match.group(0)
        role = "py:mod" if target in table and _kind(_lookup(target)) == "module" else "py:obj"
        return f"{{{role}}}`{name} <{target}>`"

    # oracle.md is a page of the guides on the site
    text = text.replace("](oracle.md)", "](guides/oracle.md)")
    out = []
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
            out.append(line)
            continue
        out.append(line if fence else _CODE.sub(repl, line))
    content[0] = "\n".join(out)


# --------------------------------------------------------------------------------------------
# MathJax, bundled


def mathjax_source() -> Path:
    """The ``es5`` folder of MathJax 3 shipped by the ``django-static-mathjax`` wheel."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "MathJax is bundled from the 'django-static-mathjax' package: pip install -e '.[docs]'"
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if not (root / "tex-chtml.js").is_file():
        raise RuntimeError(f"no MathJax 3 build at {root}")
    return root


def copy_mathjax(app: Sphinx, exception: BaseException | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_source()
    dest = Path(app.outdir) / "_static" / "mathjax"
    for item in MATHJAX_FILES:
        src = source / item
        if src.is_dir():
            shutil.copytree(src, dest / item, dirs_exist_ok=True)
        else:
            (dest / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / item)


def setup(app: Sphinx) -> dict[str, Any]:
    mathjax_source()  # fail early, with the fix, when the package is missing
    app.connect("config-inited", write_api_pages)
    app.connect("missing-reference", resolve_alias)
    app.connect("autodoc-process-bases", public_bases)
    app.connect("autodoc-process-signature", factory_defaults)
    app.connect("include-read", link_code_in_design)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


__all__ = ["canonical_names", "public_names", "setup"]
