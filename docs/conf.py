"""Sphinx configuration of the exactmd documentation site.

Build: ``.venv/bin/sphinx-build -W --keep-going -n docs docs/_build/html`` (needs the ``docs``
extra). Notebooks are executed at build time (myst-nb, cached in the build folder); math is
rendered by a MathJax copied from a Python package, with no CDN (``_ext/exactmd_docs.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import exactmd  # noqa: E402

project = "exactmd"
author = "the exactmd developers"
copyright = "the exactmd developers, MIT licence"
release = version = exactmd.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
    "sphinx_copybutton",
    "exactmd_docs",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = [
    "_build",
    "design.md",  # included by theory.md
    "oracle.md",  # included by guides/oracle.md
    "notebooks/README.md",
    "notebooks/*.py",
    "screenshots",
    "**.ipynb_checkpoints",
    "_templates",
]
templates_path = ["_templates"]

# --- API reference ----------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()
add_module_names = False
python_display_short_literal_types = True

nitpicky = True
# Third-party types in signatures: there is no network, hence no intersphinx inventory.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|npt|torch|sympy|pgmpy|networkx|nx|hypothesis|scipy)(\..*)?"),
    (r"py:.*", r"(ArrayLike|NDArray|Tensor|Strategy|SearchStrategy|DTypeLike)"),
    # builtin generics in signatures (``dict[str, float]``): no inventory without the network
    (r"py:class", r"(dict|list|tuple|set|frozenset|type)\[.*"),
    # the standard library: without the network there is no inventory of Python's own docs
    (r"py:.*", rf"({'|'.join(sorted(sys.stdlib_module_names))})\..*"),
]

# --- notebooks and Markdown -------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_timeout = 120
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
nb_execution_excludepatterns: list[str] = []

# --- HTML -------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"exactmd {release}"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "icon_links": [],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_context = {"default_mode": "light"}
# MathJax 3 from _static/mathjax (copied from the django-static-mathjax package): no CDN
mathjax_path = "mathjax/tex-chtml.js"

copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
