"""The documentation site: built with warnings as errors, links checked offline, and pages
checked in Debian's headless Chromium (docs/browser_check.py).

The build executes the notebooks (myst-nb), so it is marked slow; the browser test reuses
the same build.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

pytest.importorskip("sphinx", reason="the docs extra is not installed: pip install -e '.[docs]'")


def _helper() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("browser_check", DOCS / "browser_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("docs") / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html"]
    result = subprocess.run(
        [*cmd, str(DOCS), str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    return out, result


@pytest.mark.slow
def test_site_builds_with_warnings_as_errors(
    site: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, result = site
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert (out / "index.html").is_file()
    # every public name has a page: the top level and each subpackage's __all__
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        ext = importlib.import_module("exactmd_docs")
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    missing = []
    for full, target in ext.canonical_names().items():
        page = out / "api" / "generated" / f"{target}.html"
        if not page.is_file():
            missing.append(f"{full} -> {page.name}")
    assert not missing, missing
    # the notebooks are rendered with their outputs
    for nb in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        html = (out / "notebooks" / f"{nb.stem}.html").read_text()
        assert "cell_output" in html, nb.name
    # every benchmark table is on the benchmarks page
    bench = (DOCS / "benchmarks.md").read_text()
    for table in sorted((ROOT / "benchmarks" / "results").glob("*.md")):
        if "-quick" not in table.name:
            assert table.name in bench, table.name
    # MathJax is bundled: no CDN
    assert (out / "_static" / "mathjax" / "tex-chtml.js").is_file()


@pytest.mark.slow
def test_internal_links_resolve_offline(
    site: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, result = site
    assert result.returncode == 0, "the build failed (see the build test)"
    problems = _helper().broken_links(out)
    assert not problems, "\n".join(problems[:50])


@pytest.mark.slow
def test_pages_in_headless_chromium(
    site: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    helper = _helper()
    if not helper.CHROMIUM.exists() or not helper.CHROMEDRIVER.exists():
        pytest.skip(
            "Debian's chromium and chromium-driver are not installed "
            "(apt-get install -y chromium chromium-driver; .ci/run does this)"
        )
    pytest.importorskip("selenium", reason="selenium comes with the docs extra")
    out, result = site
    assert result.returncode == 0, "the build failed (see the build test)"
    shots = tmp_path / "screenshots"
    facts = helper.check_pages(out, shots, tmp_path / "profile")
    assert set(helper.PAGES) <= set(facts)
    for name in helper.PAGES:
        assert (shots / f"{name}.png").stat().st_size > 10_000, name
