"""Checks of the built site: internal links offline, and pages in a real headless Chromium.

Used by ``tests/test_docs.py``; also runnable by hand after a build::

    .venv/bin/python docs/browser_check.py docs/_build/html docs/screenshots

- :func:`broken_links` reads every built HTML page and returns the internal links (``href``
  and ``src``) whose file or ``#anchor`` does not exist, and every resource the pages would
  load from another host (there must be none: the machines have no network).
- :func:`check_pages` serves the site from ``http.server`` on 127.0.0.1, opens the index, the
  theory page and one API page in Debian's Chromium through Selenium and ``/usr/bin/chromedriver``
  (no browser or driver is downloaded), takes a screenshot of each, and checks that the math is
  typeset by MathJax (an ``mjx-container``, no raw ``$$`` left), that the console has no
  error, and that clicking a navigation link changes the page.
"""

from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: the pages the browser check opens (relative to the built site) and their screenshot names
PAGES = {
    "index": "index.html",
    "theory": "theory.html",
    "api": "api/index.html",
}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (attribute, value)
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(str(values[key]))
        for key in ("href", "src"):
            value = values.get(key)
            if not value:
                continue
            parts = urlsplit(value)
            loads = tag in ("script", "img", "iframe") or (
                tag == "link" and "stylesheet" in (values.get("rel") or "")
            )
            if parts.scheme in ("http", "https") or value.startswith("//"):
                if loads:
                    self.external.append(f"<{tag} {key}={value}>")
                continue
            if parts.scheme:  # mailto:, data:, javascript:
                continue
            self.links.append((key, value))


def broken_links(html_dir: Path) -> list[str]:
    """Internal links of the built site whose target file or anchor is missing, and loads
    from other hosts. An empty list means the site is whole and offline."""
    html_dir = Path(html_dir)
    parsed: dict[Path, _Links] = {}
    for page in html_dir.rglob("*.html"):
        if "_static" in page.relative_to(html_dir).parts:
            continue  # the theme's template fragments, not pages
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        parsed[page.resolve()] = parser
    problems = []
    for page, parser in sorted(parsed.items()):
        where = page.relative_to(html_dir.resolve())
        problems += [f"{where}: loads {ext} from another host" for ext in parser.external]
        for _key, value in parser.links:
            parts = urlsplit(value)
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{where}: {value} (no file {target.name})")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else set()
                if fragment not in ids:
                    problems.append(f"{where}: {value} (no anchor #{fragment})")
    return problems


@contextmanager
def serve(html_dir: Path) -> Iterator[str]:
    """Serve ``html_dir`` on 127.0.0.1 (a free port) for the duration of the block."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _driver(profile: Path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER))
    return webdriver.Chrome(service=service, options=options)


def _wait(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return bool(predicate())


def check_pages(html_dir: Path, shots_dir: Path, profile: Path) -> dict[str, dict[str, object]]:
    """Open :data:`PAGES` in headless Chromium; screenshot each into ``shots_dir``.

    Returns ``{page: facts}`` and raises ``AssertionError`` naming every failed check.
    """
    shots_dir = Path(shots_dir)
    shots_dir.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    facts: dict[str, dict[str, object]] = {}
    with serve(Path(html_dir)) as base:
        driver = _driver(Path(profile))
        try:
            driver.set_page_load_timeout(60)
            for name, path in PAGES.items():
                driver.get(base + path)
                typeset = _wait(
                    lambda: driver.execute_script(
                        "return document.querySelectorAll('mjx-container').length > 0 &&"
                        " !document.querySelector('.MathJax_Processing, mjx-merror');"
                    )
                )
                if name == "theory":  # show typeset math in the screenshot, not the intro
                    driver.execute_script(
                        "var m = document.querySelector('mjx-container[display=\"true\"]');"
                        " if (m) { m.scrollIntoView({block: 'center'}); }"
                    )
                time.sleep(0.5)  # let the fonts settle before the screenshot
                count = driver.execute_script(
                    "return document.querySelectorAll('mjx-container').length;"
                )
                text = driver.execute_script("return document.body.innerText;")
                logs = driver.get_log("browser")
                errors = [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]
                driver.save_screenshot(str(shots_dir / f"{name}.png"))
                facts[name] = {"title": driver.title, "mathjax": count, "errors": errors}
                if not typeset or not count:
                    failures.append(f"{path}: no math typeset by MathJax (mjx-container)")
                if "$$" in text or re.search(r"\\\(|\\\[", text):
                    failures.append(f"{path}: raw TeX delimiters left in the page text")
                if errors:
                    failures.append(f"{path}: console errors {errors}")
            # navigation: from the index, click the header link to the theory page
            driver.get(base + PAGES["index"])
            before = driver.title
            links = driver.find_elements("css selector", "a.nav-link[href*='theory']")
            if not links:
                failures.append("index.html: no navigation link to the theory page")
            else:
                links[0].click()
                changed = _wait(lambda: "theory" in driver.current_url, timeout=15)
                facts["navigation"] = {"from": before, "to": driver.title}
                if not changed or driver.title == before:
                    failures.append(f"clicking the theory link did not change the page ({before})")
        finally:
            driver.quit()
    if failures:
        raise AssertionError("\n".join(failures))
    return facts


if __name__ == "__main__":  # pragma: no cover - by hand
    import tempfile

    site, shots = Path(sys.argv[1]), Path(sys.argv[2])
    print("\n".join(broken_links(site)) or "links: ok")
    with tempfile.TemporaryDirectory() as tmp:
        print(check_pages(site, shots, Path(tmp)))
