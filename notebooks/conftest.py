"""pytest runs the paired ``.ipynb`` here through nbmake; the ``.py`` twins are not modules.

Without this, ``--doctest-modules`` would import (that is, run) every notebook script while
collecting. ``__init__.py`` makes this file ``notebooks.conftest``: a second top-level
``conftest`` would shadow ``tests/conftest.py``, which tests import (``from conftest import``).
``tests/test_notebooks_meta.py`` runs the scripts as plain Python instead.
"""

collect_ignore = ["conftest.py"]
collect_ignore_glob = ["[0-9][0-9]_*.py"]
