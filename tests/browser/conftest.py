"""The browser suite's plumbing: build, serve, launch Chromium, survey each page once.

* The site is built once with ``mkdocs build --strict`` into a temporary folder (once for the
  whole run: under pytest-xdist the controller serves one folder, ``share_site``, and the first
  worker that needs it builds it there, ``built_once``), with
  ``SITE_URL`` set to the address it is served from, so Material's instant navigation runs.
  Like a GitHub Pages project site, it is served under a sub-path (``BASE``,
  ``/dismantling-neural-networks/``): a link or asset that assumes the root fails there.
  A second build of the same ``mkdocs.yml`` without the KaTeX extension gives the formula count
  of every page's source (see ``checks.source_formula_count``).
* A threaded ``http.server`` serves it on 127.0.0.1 on a free port. Like GitHub Pages, it
  gzips text (HTML, CSS, JS, JSON, SVG) for clients that ask, so the transferred bytes of
  the page budget are what a reader downloads, and it answers a missing path under the
  sub-path with the site's ``404.html`` (status 404); nothing is served outside it.
* The installed Chromium is driven by Playwright (never a browser Playwright downloads):
  ``$CHROMIUM`` if set, else the first of ``chromium``, ``chromium-browser`` and
  ``google-chrome`` on ``PATH`` (``checks.find_chromium``, the Makefile's order). If none is
  there the suite skips on a developer's machine and FAILS under CI (``CI=true``).
"""

import contextlib
import fcntl
import functools
import gzip
import html as html_lib
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import checks, figtext

ROOT = checks.ROOT
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# Built as the workflow builds it: with a repository link and edit links (an example address
# unless the workflow's own is set; links to other hosts are never followed).
ENV = {"REPO_URL": "https://github.com/example-owner/dismantling-neural-networks",
       "EDIT_URI": "edit/main/docs/"} | os.environ | {"NO_MKDOCS_2_WARNING": "1"}
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
WEIGHTS = pytest.StashKey[dict]()
LINKS = pytest.StashKey[str]()
BOOK = pytest.StashKey[str]()


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


# ---------------------------------------------------------------- nav (read at collection time)

def nav_pages(config_file=ROOT / "mkdocs.yml"):
    """``[(section, title, url path)]`` for every page in the nav, in nav order."""
    from mkdocs.utils.yaml import yaml_load

    with open(config_file, encoding="utf-8") as handle:
        nav = yaml_load(handle)["nav"]
    out = []

    def walk(items, section):
        for item in items:
            for title, value in (item.items() if isinstance(item, dict) else [(None, item)]):
                if isinstance(value, list):
                    walk(value, title)
                elif not value.startswith(("http://", "https://")):
                    out.append((section, title, _url_of(value)))

    walk(nav, None)
    return out


def _url_of(src):
    stem = src[: -len(".md")]
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


NAV = nav_pages()
CHAPTERS = [url for section, _, url in NAV if section and re.match(r"Part [IVXLC]+\b|Chapters$", section)]


# ---------------------------------------------------------------- build and serve

# The Markdown extensions that typeset formulas: the build of a site's formula count runs without them.
TYPESETTERS = {"sitekit.katex", "katex_unless_off"}
BASE = "/dismantling-neural-networks/"  # where GitHub Pages serves a project site of that name


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves ``directory`` at ``base``, as GitHub Pages serves a project site (see the module doc)."""

    base = BASE

    def log_message(self, *args):
        pass

    def translate_path(self, path):
        return super().translate_path("/" + path[len(self.base):])

    def do_GET(self):
        if not self.path.startswith(self.base):
            return self.send_error(404, "outside the site's path")
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        status = 200
        if not path.is_file():
            if path.is_dir() or not (Path(self.directory) / "404.html").is_file():
                return super().do_GET()  # a folder without its slash: redirected, as on Pages
            path, status = Path(self.directory) / "404.html", 404
        data = path.read_bytes()
        ctype = self.guess_type(str(path))
        zipped = "gzip" in self.headers.get("Accept-Encoding", "") and ctype.startswith(COMPRESSIBLE)
        if zipped:
            data = gzip.compress(data, compresslevel=6, mtime=0)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if zipped:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(data)


@dataclass
class Site:
    root: Path
    raw: Path
    origin: str
    base: str = BASE

    def url(self, path=""):
        """The full address of ``path`` (relative to the site, as in the nav: ``"loss/"``)."""
        return self.origin + self.base.lstrip("/") + path

    def path(self, path=""):
        """The address's path part, as a browser shows it: ``/dismantling-neural-networks/loss/``."""
        return self.base + path

    def html(self, path):
        return (self.root / path / "index.html").read_text(encoding="utf-8")

    def title(self, path):
        return html_lib.unescape(re.search(r"<title>(.*?)</title>", self.html(path), re.S).group(1).strip())

    def has_tabs(self, path, labels=checks.TAB_LABELS):
        sets = re.findall(r'<div class="tabbed-labels">(.*?)</div>', self.html(path), re.S)
        return any(re.findall(r"<label[^>]*>(.*?)</label>", s) == labels for s in sets)

    def has_figures(self, path):
        return re.search(r'<img [^>]*src="[^"]+\.svg"', self.html(path)) is not None

    def expected_formulas(self, path):
        raw = (self.raw / path / "index.html").read_text(encoding="utf-8")
        return checks.source_formula_count(raw)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A browser that hangs up mid-answer (a ``<picture>`` switching rendering, a closed page)
        is not an error of the site; anything else is printed, as ``socketserver`` does."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def free_server():
    """A threaded server bound to a free port on 127.0.0.1 (``_running`` says what it serves)."""
    return _Server(("127.0.0.1", 0), _Handler)


def _origin(server):
    return f"http://127.0.0.1:{server.server_address[1]}/"


@contextlib.contextmanager
def _running(server, folder):
    """``server`` answering from ``folder`` (built or not yet) in a thread, until the block ends."""
    server.RequestHandlerClass = functools.partial(_Handler, directory=str(folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def build(config_file, out, raw_out, site_url):
    """Strict build into ``out``, and one without KaTeX (``TYPESETTERS``, no hooks) into ``raw_out``, in parallel."""
    env = ENV | {"SITE_URL": site_url}
    cwd = Path(config_file).parent
    strict = subprocess.Popen([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(config_file),
                               "-d", str(out)], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)
    script = ("import sys\nfrom mkdocs.config import load_config\nfrom mkdocs.commands.build import build\n"
              "from mkdocs.utils.yaml import yaml_load\n"
              "exts = yaml_load(open(sys.argv[1], encoding='utf-8')).get('markdown_extensions', [])\n"
              f"exts = [e for e in exts if (next(iter(e)) if isinstance(e, dict) else e) not in {sorted(TYPESETTERS)!r}]\n"
              "build(load_config(sys.argv[1], hooks=[], markdown_extensions=exts, site_dir=sys.argv[2]))\n")
    raw = subprocess.Popen([sys.executable, "-c", script, str(config_file), str(raw_out)], cwd=cwd, env=env,
                           stderr=subprocess.PIPE, text=True)
    for name, proc in (("strict build", strict), ("build without KaTeX", raw)):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{name} of {config_file} failed:\n{err[-3000:]}"


@contextlib.contextmanager
def serving(make_site):
    """Serve a site on a free local port under ``BASE``; yields the ``Site``.

    ``make_site(origin)`` builds it for that origin (the address is known before the build, which
    takes it as ``SITE_URL``) and returns its ``Site``.
    """
    server = free_server()
    site = make_site(_origin(server))
    with _running(server, site.root):
        yield site


def served(config_file, tmp, built_for=None):
    """Build ``config_file`` with MkDocs for a free local port and serve it there (``serving``).

    ``built_for(origin)`` gives the ``SITE_URL`` to build with instead of the served address
    (a planted fault: a site built for the root, served under the sub-path).
    """
    def make_site(origin):
        site = Site(root=tmp / "site", raw=tmp / "raw", origin=origin)
        build(config_file, site.root, site.raw, built_for(origin) if built_for else site.url())
        return site

    return serving(make_site)


# ---------------------------------------------------------------- one build for every worker

SHARED = "dismantle_shared_site"  # the key of ``share_site``'s (origin, folder) in a worker's workerinput


@contextlib.contextmanager
def share_site():
    """Serve a folder that is not built yet, on a free local port: ``(origin, folder)``.

    Runs in pytest-xdist's controller (the root conftest.py), which hands the pair to every worker:
    the first worker whose tests need the site builds it there for that origin (``built_once``), and
    every worker's browser loads the same pages from the same server. Without it each worker would
    build the site (a strict build and one without KaTeX, about 13 s of CPU each) for its own server.
    """
    folder = Path(tempfile.mkdtemp(prefix="browser-site-"))
    server = free_server()
    try:
        with _running(server, folder / "site"):
            yield _origin(server), str(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def built_once(config_file, folder, origin):
    """The ``Site`` that ``share_site`` serves from ``folder``: built by the first worker to ask
    (the others wait on a lock, then read the same files); a failed build fails every asker."""
    folder = Path(folder)
    site = Site(root=folder / "site", raw=folder / "raw", origin=origin)
    with open(folder / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (folder / "built").exists():
            build(config_file, site.root, site.raw, site.url())
            (folder / "built").touch()
    return site


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="package")  # ends with tests/browser/: Playwright's event loop would break a later asyncio.run
def browser():
    executable, missing = checks.find_chromium()
    if missing and os.environ.get("CHROMIUM"):
        pytest.fail(missing)  # a browser was named: never skip past a typo
    if not checks.AXE.is_file():
        missing = f"axe-core is missing at {checks.AXE} (npm ci installs it)"
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=checks.CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def site(tmp_path_factory, pytestconfig):
    """The site, built once for the run and served under ``BASE`` (``share_site`` under pytest-xdist)."""
    shared = getattr(pytestconfig, "workerinput", {}).get(SHARED)
    if shared is not None:
        yield built_once(ROOT / "mkdocs.yml", shared[1], shared[0])
        return
    with served(ROOT / "mkdocs.yml", tmp_path_factory.mktemp("browser-site")) as site:
        yield site


@pytest.fixture(scope="package")
def book(browser, site):
    """The whole book as one PDF (``sitekit.book``), printed into the built site as ``make build`` does,
    then the site zipped to be read from a folder (``sitekit.offline``; it holds the PDF).

    The home page and the footer link both, so the link checker needs them there too.
    """
    from sitekit import book as booklib
    from sitekit import offline

    printed = booklib.pdf(site.root, browser=browser)
    offline.make_zip(site.root)
    return printed


@pytest.fixture
def report_book(pytestconfig):
    """``report_book(text)``: print ``text`` at the end of the run."""
    def report(text):
        pytestconfig.stash[BOOK] = text

    return report


@pytest.fixture
def report_links(pytestconfig):
    """``report_links(text)``: print ``text`` at the end of the run, before the page-weight table."""
    def report(text):
        pytestconfig.stash[LINKS] = text

    return report


@pytest.fixture
def new_page(browser):
    """``new_page(**context_options)``: a page in a fresh context (a cold cache), closed afterwards."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@dataclass
class Survey:
    """What one page showed in one variant (viewport × colour scheme)."""

    math: list
    layout: list
    axe: list
    figures: list
    figure_text: list  # figtext.FigureText of each figure (pages with figures only)
    screenshot: Path | None  # taken in the variants of SHOTS only


@dataclass
class PageSurvey:
    """One cold load of a page (network, console, weights), then each variant in turn."""

    load: list
    third_party: list
    weights: dict
    variants: dict
    requests: list
    code: list = None  # Python blocks that scroll sideways at 1280 px (tests/browser/test_code_width.py)
    download: dict = None  # a chapter's "Download notebook" action (tests/browser/test_notebooks.py)

    def __getitem__(self, variant):
        return self.variants[variant]


# Order matters: the cold load is desktop-light, then the same page is re-viewed.
VARIANTS = {
    "desktop-light": (checks.DESKTOP, "light"),
    "desktop-dark": (checks.DESKTOP, "dark"),
    "mobile-dark": (checks.MOBILE, "dark"),
    "mobile-light": (checks.MOBILE, "light"),
}
CODE_VARIANT = "desktop-light"  # where Python blocks must not scroll: 88 characters fit at 1280 px


# A full-page screenshot costs about a second on a long page, and no check reads it (the checks take
# their own: figure contrast, figure text): they are pictures for people, taken only when asked for
# with SCREENSHOTS=1 (the workflow does, and uploads them), one per viewport.
SHOTS = ("desktop-light", "mobile-dark") if os.environ.get("SCREENSHOTS") == "1" else ()


@pytest.fixture(scope="package")
def survey(browser, site, pytestconfig):
    """``survey(path)``: load the page once, cold, and run every check in every variant."""
    cache = {}
    weights = pytestconfig.stash.setdefault(WEIGHTS, {})
    if SHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def run(path):
        if path not in cache:
            cache[path] = _survey(browser, site, path)
            weights[path] = cache[path].weights
        return cache[path]

    return run


def _survey(browser, site, path):
    """Load ``path`` cold at desktop size in the light scheme, then switch viewport and scheme.

    Re-viewing (``set_viewport_size``, and the header's palette toggle, as a reader would)
    instead of reloading keeps the suite fast: Material's layout is CSS media queries, and each
    palette switch is awaited on ``body``'s ``data-md-color-scheme``. Every per-page check of the
    suite reads this one load: the page's own (``test_pages.py``), its Python blocks' width at
    1280 px (``checks.scrolling_code``), its figures' text in each variant (``figtext.measure``)
    and, on a chapter, its "Download notebook" action (``checks.download_action``). Those run last
    in their variant, as each opens closed exercises, may scroll or takes the focus, and puts
    them back.
    """
    context = browser.new_context(viewport=checks.DESKTOP, color_scheme="light", accept_downloads=True)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        visit = checks.load(page, site.url(path), site.origin)
        out = PageSurvey(load=[], third_party=[], weights=visit.weights(), variants={}, requests=visit.requests)
        expected = site.expected_formulas(path)
        has_figures = site.has_figures(path)
        for variant, (viewport, scheme) in VARIANTS.items():
            checks.view_as(page, viewport, scheme)
            shot = None
            if variant in SHOTS:  # artifacts for people, read by no check: one per viewport
                shot = SCREENSHOTS / f"{(path.strip('/') or 'home').replace('/', '-')}--{variant}.png"
                page.screenshot(path=shot, full_page=True)
            desktop, dark = viewport is checks.DESKTOP, scheme == "dark"
            out.variants[variant] = Survey(
                math=checks.math_problems(page, expected),
                layout=checks.overflow_problems(page),
                axe=checks.axe_violations(page, colours_only=dark) if desktop else [],
                figures=checks.figure_problems(page) if dark and desktop else [],
                figure_text=figtext.measure(page) if has_figures else [],
                screenshot=shot,
            )
            if variant == CODE_VARIANT:
                out.code = checks.scrolling_code(page)
                out.download = checks.download_action(page) if path in CHAPTERS else None
        out.load = checks.load_problems(visit)
        out.third_party = checks.third_party_requests(visit)
        return out
    finally:
        context.close()


# ---------------------------------------------------------------- the page-weight table

SENT = pytest.StashKey[set]()  # what this process already handed to the end-of-run sections
SECTION = "dismantle-section"  # conftest.SECTION: what the root conftest prints at the end of the run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Hand the links report and each new page-weight row to the root conftest's end-of-run sections
    (on the test's report, so that they reach the controller under pytest-xdist too)."""
    outcome = yield
    report = outcome.get_result()
    config, out = item.config, report.user_properties
    sent = config.stash.setdefault(SENT, set())
    links = config.stash.get(LINKS, None)
    if links and links not in sent:
        sent.add(links)
        out.append((SECTION, [f"links of the built site under {BASE}", "report", links]))
    book = config.stash.get(BOOK, None)
    if book and book not in sent:
        sent.add(book)
        out.append((SECTION, ["the book (PDF)", "report", book]))
    title = f"page weight (cold load under {BASE}, KB transferred, gzip as on GitHub Pages)"
    head = ["page", *checks.KINDS, "total", "decoded"]
    for path, w in config.stash.get(WEIGHTS, {}).items():
        if path in sent:
            continue
        if "head" not in sent:
            sent.add("head")
            if SHOTS:
                out.append((SECTION, [title, "", f"screenshots: {SCREENSHOTS}"]))
            out.append((SECTION, [title, "head", f"{head[0]:<28}" + "".join(f"{h:>9}" for h in head[1:])]))
        sent.add(path)
        out.append((SECTION, [title, path, f"{'/' + path:<28}" + "".join(f"{w[k] / 1024:>9.1f}" for k in head[1:])]))
