"""Doc-test plumbing: every doc block and docstring example runs, alone, with its output checked.

- Every step of a cont-chain carries its own checked output (see ``tests/mdblocks.py`` for the
  rewrite). Code blocks keep the line numbers they have in the page, so a failure still points
  at the right place.
- Every number tied in a page's sentences (``{{31 = n_params}}``, ``sitekit.claims``) is checked
  in the namespace of its walk-through, right after the walk-through's last block has run: that
  block's test fails, naming page and line, when a claim does not hold. A claim that names no
  walk-through, or cannot be read, fails the page's collection, with page and line.
- A doc block or docstring example may not be skipped or xfailed: a skip marker, an
  ``importorskip``, a ``doctest: +SKIP`` or a ``pytest.skip()`` inside the block turns into a
  failure (tests/test_fences.py and tests/test_doctests.py also refuse the markers, naming file
  and line). The only exceptions are the shell blocks listed, each with its reason, in
  ``tests.mdblocks.SKIP_ALLOWED``.
- Docstring examples (``--doctest-modules`` over ``src``) run in an empty namespace, as a reader
  pasting them into a fresh interpreter would: an example that uses a name it does not import fails.
- The BLAS portability runs (``tests/blasruns.py``) start in the background as soon as collection
  is done, and their tests go last, so the runs overlap the rest of the suite.
"""

import contextlib
import functools
import io
import zlib
from pathlib import Path

import numpy as np
import pytest
import pytest_codeblocks.plugin as codeblocks_plugin
from _pytest.doctest import DoctestItem
from pytest_codeblocks.main import extract_from_buffer

from sitekit import claims
from tests import blasruns
from tests.mdblocks import SKIP_ALLOWED, first_line, merge_chain_outputs, scan


def extract_with_step_outputs(path, encoding="utf-8"):
    """pytest-codeblocks' extraction, on the page rewritten by ``merge_chain_outputs``."""
    with open(path, encoding=encoding) as handle:
        text = handle.read()
    page = Path(path).resolve()
    page = page.relative_to(Path.cwd()).as_posix() if page.is_relative_to(Path.cwd()) else str(path)
    todo = claims.plan(text, page)  # raises ClaimError, with page and line, for an unreadable claim
    last = {walk[1] for walk in todo}
    blocks = extract_from_buffer(io.StringIO(merge_chain_outputs(text, claims_after=last)))
    fences = [f for f in scan(text.splitlines()) if f.ticks.startswith("`") and f.role == "code"]
    if len(blocks) != len(fences):  # e.g. a skipfile marker: the page would pass with nothing run
        raise RuntimeError(f"{path}: pytest-codeblocks found {len(blocks)} blocks, the page has "
                           f"{len(fences)} (is a marker switching blocks off?)")
    for block, fence in zip(blocks, fences):
        block.lineno = fence.start + 1
        block.claims = next((found for walk, found in todo.items() if walk[0] == block.lineno), [])
    return blocks


def run_and_check_claims(self):
    """pytest-codeblocks' run of a block, then the claims of the walk-through it ends, if any."""
    claims.take()
    run_block(self)
    if getattr(self.obj, "claims", None):
        namespace = claims.take()
        if namespace is None:
            raise RuntimeError(f"{self.name}: the block ran, but did not hand over its namespace for its claims")
        claims.check_all(self.obj.claims, namespace)


codeblocks_plugin.extract_from_file = extract_with_step_outputs
run_block = codeblocks_plugin.TestBlock.runtest
codeblocks_plugin.TestBlock.runtest = run_and_check_claims


NUMPY_PRINT_DEFAULTS = np.get_printoptions()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A clean slate for every doc block and docstring example."""
    if isinstance(item, (codeblocks_plugin.TestBlock, DoctestItem)):
        np.set_printoptions(**NUMPY_PRINT_DEFAULTS)  # no print options leak from one to the next
    if isinstance(item, DoctestItem):
        item.dtest.globs.clear()  # not the module's globals: the example imports what it uses


def skip_allowed(item):
    """True for a doc block that tests.mdblocks.SKIP_ALLOWED lets skip (a shell block, with a reason)."""
    page = item.path.relative_to(item.config.rootpath).as_posix()
    return item.obj.syntax in ("sh", "bash") and (page, first_line(item.obj.code.splitlines())) in SKIP_ALLOWED


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A doc block or docstring example that was skipped, xfailed or xpassed fails the run instead."""
    outcome = yield
    report = outcome.get_result()
    is_block = isinstance(item, codeblocks_plugin.TestBlock)
    if not (is_block or isinstance(item, DoctestItem)) or (is_block and skip_allowed(item)):
        return
    xfail = hasattr(report, "wasxfail")
    if report.skipped or xfail:
        what = "xfailed" if report.skipped and xfail else "xpassed" if xfail else "skipped"
        kind = "doc block" if is_block else "docstring example"
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid}: this {kind} was {what}; it must run and pass. Remove the "
            "skip/xfail marker, `doctest: +SKIP` or the skip inside the block; shell blocks that must "
            "not run go in tests.mdblocks.SKIP_ALLOWED with their reason."
        )
        if xfail:
            del report.wasxfail


# The test files that read the shared strict build (the ``published_site`` fixture): one group.
SITE_BUILD_READERS = ("tests/test_site.py", "tests/test_repository.py", "tests/test_moved_anchors.py")


@pytest.fixture(scope="session")
def published_site(tmp_path_factory):
    """``(site folder, stderr)``: one strict build of the site as the workflow builds it
    (``REPO_URL``/``EDIT_URI`` set), shared by the tests that only read it (SITE_BUILD_READERS)."""
    from tests.test_repository import EDIT, REPO, _build

    return _build(tmp_path_factory.mktemp("published"), REPO_URL=REPO, EDIT_URI=EDIT)


# The browser test files whose per-page tests (parametrized by page) read the page survey
# (tests/browser/conftest.py, ``survey``): a page's tests from all of them go to the same part.
SURVEY_READERS = ("tests/browser/test_pages.py", "tests/browser/test_figures.py", "tests/browser/test_code_width.py",
                  "tests/browser/test_notebooks.py")
SURVEY_PARTS = 4  # the page survey's groups: parts of the nav, each surveyed on whichever worker is free
# Browser test files that share a module- or package-scoped fixture with another file: one group each.
# The book (the PDF and the offline zip, written into the built site) is printed once for all three.
BROWSER_GROUPS = {"tests/browser/test_book.py": "browser book", "tests/browser/test_offline.py": "browser book",
                  "tests/browser/test_site_path.py": "browser book",
                  "tests/browser/test_code_width.py": "tests/browser/test_figures.py"}  # the planted site
# Browser test files whose per-page tests need nothing expensive in common: each is a group of its own.
BROWSER_SPREAD = ("tests/browser/test_moved_anchors.py",)  # a page's old addresses: 2 to 44 s each
BROWSER_VARIANTS = ("desktop-light", "desktop-dark", "mobile-dark", "mobile-light")


def page_of(nodeid):
    """The page id (``/loss/``) of a browser test parametrized by page (and maybe by variant)."""
    params = nodeid.rsplit("[", 1)[1].rstrip("]")
    for variant in BROWSER_VARIANTS:
        params = params.replace(variant, "")
    return params.strip("-")


def page_part(nodeid, parts=SURVEY_PARTS):
    """1 to ``parts``: which part of the nav's pages the browser suite's per-page test ``nodeid`` surveys.

    The SURVEY_READERS read one survey of each page (a cold load, four views): each part is a
    group of its own, so the parts run on whichever worker is free, while every page is still
    surveyed once (its tests stay in one group). Every worker loads the same build (``share_site``).
    """
    page = page_of(nodeid).removeprefix("/")
    order = nav_order()  # pages dealt round in nav order: the long chapters split evenly
    return order.index(page) % parts + 1 if page in order else zlib.crc32(page.encode()) % parts + 1


@functools.cache
def nav_order():
    from tests.browser.conftest import NAV

    return [url for _, _, url in NAV]


def xdist_group(nodeid):
    """The pytest-xdist group of a test (``make test`` runs ``-n auto --dist loadgroup``), or None.

    A group runs on one worker, so a module- or package-scoped fixture is made once. The browser
    suite's page survey is in parts (``page_part``: the survey is the suite's longest part); each
    other browser test file is a group, and files sharing a fixture are one (``BROWSER_GROUPS``);
    every worker's browser loads the same build (``share_site``). Each other test file under tests/
    is one group (its site build, its regenerated figures). Doc blocks, docstring examples and
    each chapter's notebook test need nothing shared, and spread over the workers one by one.
    """
    path = nodeid.split("::", 1)[0]
    if path in SURVEY_READERS and "[" in nodeid:
        return f"browser pages {page_part(nodeid)}/{SURVEY_PARTS}"
    if path in BROWSER_GROUPS:
        return BROWSER_GROUPS[path]
    if path in BROWSER_SPREAD and "[" in nodeid:
        return nodeid
    if path in SITE_BUILD_READERS:
        return "site build"
    if path.startswith("tests/") and path != "tests/test_notebooks.py":
        return path
    return None


# The order the groups are handed to the workers (``pytest_xdist_make_scheduler``): the longest
# first, so that no long group starts last while the other worker sits idle. First match wins;
# everything else keeps its collection order, after these (the BLAS runs' tests last of all).
LONG_FIRST = ("browser pages", "tests/browser/test_moved_anchors.py", "browser book", "tests/test_notebooks.py",
              "tests/browser/")


def schedule_rank(nodeid):
    """Where the group of ``nodeid`` goes in the schedule: its index in LONG_FIRST, else after them."""
    group = xdist_group(nodeid) or nodeid
    return next((k for k, prefix in enumerate(LONG_FIRST) if group.startswith(prefix)), len(LONG_FIRST))


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist
def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadgroup``, the groups are ``xdist_group``'s: pytest-xdist's own reading of
    xdist_group marks does not work with pytest 9.2 (pytest-xdist issue 1386), so the scheduler
    reads the groups from the node ids itself. The groups go out in collection order, which
    ``pytest_collection_modifyitems`` makes longest first (``LONG_FIRST``), not by their number of tests."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return xdist_group(nodeid) or nodeid

    config.option.loadscopereorder = False
    return GroupScheduling(config, log)


SHARED_SITE = pytest.StashKey[tuple]()  # (the ExitStack that stops the server, (origin, folder))


def pytest_configure(config):
    """In pytest-xdist's controller: serve the browser suite's one build for every worker
    (tests/browser/conftest.py, ``share_site``; the site is built only if a worker needs it)."""
    if config.getoption("dist", "no") == "no" or hasattr(config, "workerinput"):
        return
    from tests.browser.conftest import share_site

    stack = contextlib.ExitStack()
    config.stash[SHARED_SITE] = stack, stack.enter_context(share_site())


def pytest_unconfigure(config):
    stack, _ = config.stash.get(SHARED_SITE, (None, None))
    if stack is not None:
        stack.close()


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, in the controller
def pytest_configure_node(node):
    _, shared = node.config.stash.get(SHARED_SITE, (None, None))
    if shared is not None:
        from tests.browser.conftest import SHARED

        node.workerinput[SHARED] = list(shared)


def pytest_collection_modifyitems(config, items):
    """The tests that wait for the background BLAS runs go last; in a pytest-xdist worker, the
    long groups go first (``schedule_rank``; every worker sorts alike, as the scheduler requires)."""
    waiting = [item for item in items if blasruns.FIXTURE in getattr(item, "fixturenames", ())]
    items[:] = [item for item in items if item not in waiting]
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: schedule_rank(item.nodeid))  # stable: a group's tests keep their order
    items += waiting


def pytest_collection_finish(session):
    """Start the BLAS runs now, while the rest of the suite runs, if any selected test needs them.

    Not in a pytest-xdist worker: every worker collects every test, so there the fixture starts
    them, once, on the worker that runs their tests.
    """
    needed = any(blasruns.FIXTURE in getattr(item, "fixturenames", ()) for item in session.items)
    worker = hasattr(session.config, "workerinput")
    if needed and not worker and not session.config.option.collectonly:
        session.config.stash[blasruns.STARTED] = blasruns.start_runs()


def pytest_sessionfinish(session):
    """Stop the BLAS runs if the session ended before their tests (-x, Ctrl-C), and clean up."""
    runs = session.config.stash.get(blasruns.STARTED, None)
    if runs is not None:
        blasruns.stop_runs(runs)


# ---------------------------------------------------------------- the stage table at the end of the run

# (path prefix from the repository root, stage), first match wins; a new test file falls into the last.
STAGES = (("tests/browser/", "browser suite"), ("tests/test_notebooks.py", "notebooks"),
          ("tests/test_blas_portability.py", "BLAS portability"), ("tests/test_figures.py", "figures"),
          ("tests/test_fig_", "figures"), ("tests/test_lint.py", "lint (ruff)"), ("tests/test_workflow.py", "zizmor"),
          ("tests/test_site.py", "site builds"), ("tests/test_repository.py", "site builds"),
          ("tests/test_zensical.py", "Zensical build"),
          ("docs/", "doc blocks"), ("README.md", "doc blocks"), ("src/", "docstring examples"),
          ("tests/", "library and guards"))
TIMES = {}  # stage: (first start, last stop, summed test time), from every test's report


def stage_of(nodeid):
    return next((stage for prefix, stage in STAGES if nodeid.startswith(prefix)), "other")


# A test (or a hook on its report) that has something to print at the end of the run appends
# (SECTION, [title, key, line]) to its report's user_properties: that survives pytest-xdist, where
# the tests run in workers and only the controller prints. Lines print under their title, one per
# key (the last sent wins), in the order first sent. The browser suite's page-weight table uses it.
SECTION = "dismantle-section"
SECTIONS = {}  # title: {key: line}


def pytest_runtest_logreport(report):
    """Each stage's first start, last stop and summed test time (setup, call and teardown)."""
    stage = stage_of(report.nodeid)
    first, last, busy = TIMES.get(stage, (report.start, report.stop, 0.0))
    TIMES[stage] = (min(first, report.start), max(last, report.stop), busy + report.duration)
    for name, value in getattr(report, "user_properties", ()):
        if name == SECTION:
            title, key, line = value
            SECTIONS.setdefault(title, {})[key] = line


def pytest_terminal_summary(terminalreporter, config):
    """The tests' sections, then one line per stage: its wall time (first test's start to last
    test's end) and its test time."""
    for title, lines in SECTIONS.items():
        terminalreporter.section(title)
        for line in lines.values():
            terminalreporter.write_line(line)
    if not TIMES:
        return
    terminalreporter.section("wall time per stage (s)")
    terminalreporter.write_line(f"{'stage':<22}{'wall':>8}{'test s':>8}")
    for stage, (first, last, busy) in sorted(TIMES.items(), key=lambda kv: kv[1][0]):
        terminalreporter.write_line(f"{stage:<22}{last - first:>8.1f}{busy:>8.1f}")
