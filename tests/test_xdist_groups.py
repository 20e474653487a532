"""conftest.xdist_group: how `make test` (pytest-xdist, --dist loadgroup) splits the suite over workers.

A group runs on one worker, which builds its fixtures once. The browser suite's page survey is in
parts (``conftest.SURVEY_PARTS``): every page's tests must stay in one part, or that page would
be loaded and surveyed twice. Browser test files that share a fixture share a group. The long
groups are handed out first (``conftest.schedule_rank``).
"""

import collections
import re
import subprocess
import sys

import conftest
from tests.browser.conftest import NAV


def collected(*paths):
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *paths],
                         capture_output=True, text=True, check=True, cwd=conftest.Path(__file__).parents[1]).stdout
    return [line for line in out.splitlines() if "::" in line]


def parts(nodeids, group=conftest.xdist_group):
    found = collections.defaultdict(set)
    for nodeid in nodeids:
        found[conftest.page_of(nodeid)].add(group(nodeid))
    return found


def per_page():
    """The node ids of the per-page tests of ``conftest.SURVEY_READERS`` (those parametrized by page)."""
    return [i for i in collected(*conftest.SURVEY_READERS) if "[" in i]


def test_each_page_is_surveyed_in_one_part_and_the_parts_are_even():
    ids = per_page()
    found = parts(ids)
    assert {page for page in found} == {"/" + url for _, _, url in NAV}
    assert [page for page, groups in found.items() if len(groups) != 1] == []
    sizes = collections.Counter(next(iter(groups)) for groups in found.values())
    n = conftest.SURVEY_PARTS
    assert set(sizes) == {f"browser pages {k}/{n}" for k in range(1, n + 1)}
    assert max(sizes.values()) - min(sizes.values()) <= 1


def test_a_grouping_that_splits_a_page_is_seen():
    """Planted: grouping by test name instead of by page puts one page's tests in two parts."""
    ids = per_page()
    by_name = lambda nodeid: f"browser pages {len(nodeid.split('[')[0]) % 2 + 1}/2"  # noqa: E731
    assert any(len(groups) > 1 for groups in parts(ids, by_name).values())


def test_the_rest_of_the_browser_suite_and_other_files_keep_their_groups():
    assert conftest.xdist_group("tests/browser/test_book.py::test_x") == "browser book"
    assert conftest.xdist_group("tests/browser/test_offline.py::test_x") == "browser book"
    assert conftest.xdist_group("tests/browser/test_interaction.py::test_x") == "tests/browser/test_interaction.py"
    moved = "tests/browser/test_moved_anchors.py::test_x"
    assert conftest.xdist_group(f"{moved}[/loss/]") != conftest.xdist_group(f"{moved}[/adam/]")
    assert conftest.xdist_group(f"{moved}_planted") == "tests/browser/test_moved_anchors.py"
    assert conftest.xdist_group("tests/browser/test_code_width.py::test_planted_x") == conftest.xdist_group(
        "tests/browser/test_figures.py::test_planted_x")
    assert conftest.xdist_group("tests/browser/test_figures.py::test_x[/loss/]") == conftest.xdist_group(
        "tests/browser/test_pages.py::test_y[/loss/-desktop-dark]")
    assert conftest.xdist_group("tests/test_site.py::test_x") == "site build"
    assert conftest.xdist_group("tests/test_conv.py::test_x[3]") == "tests/test_conv.py"
    assert conftest.xdist_group("docs/loss.md::line 12") is None
    assert conftest.xdist_group("tests/test_notebooks.py::test_notebook[loss.md]") is None


def test_every_file_that_uses_the_book_is_in_the_book_group():
    """The book fixture writes the PDF and the zip into the built site: one group prints it once."""
    root = conftest.Path(__file__).parents[1]
    users = [f"tests/browser/{p.name}" for p in sorted((root / "tests" / "browser").glob("test_*.py"))
             if re.search(r"def test_\w+\([^)]*\bbook\b", p.read_text(encoding="utf-8"))]
    assert users and {conftest.xdist_group(f"{u}::test_x") for u in users} == {"browser book"}, users


def test_the_long_groups_go_first():
    rank = conftest.schedule_rank
    assert rank("tests/browser/test_pages.py::test_x[/loss/]") == rank("tests/browser/test_figures.py::test_x[/adam/]") == 0
    assert rank("tests/browser/test_moved_anchors.py::test_x") < rank("tests/browser/test_interaction.py::test_x")
    assert rank("tests/test_notebooks.py::test_notebook_runs[loss.md]") < rank("tests/test_conv.py::test_x")
    assert rank("docs/loss.md::line 12") == rank("tests/test_conv.py::test_x") == len(conftest.LONG_FIRST)


def ask_three_times(tmp_path, monkeypatch):
    """``(builds, sites)`` of three threads calling ``built_once`` at once, with a slow fake build."""
    import threading
    import time

    from tests.browser import conftest as browser

    builds = []

    def slow_build(config_file, out, raw_out, site_url):
        builds.append(site_url)
        time.sleep(0.3)
        out.mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(browser, "build", slow_build)
    sites = []
    askers = [threading.Thread(target=lambda: sites.append(browser.built_once("mkdocs.yml", tmp_path, "http://h:1/")))
              for _ in range(3)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    return builds, sites


def test_the_shared_site_is_built_once_however_many_workers_ask(tmp_path, monkeypatch):
    """tests/browser/conftest.built_once: the first asker builds, the others wait and read the same
    folder (three threads here; the lock is a file's, so processes exclude each other alike)."""
    from tests.browser.conftest import BASE

    builds, sites = ask_three_times(tmp_path, monkeypatch)
    assert builds == ["http://h:1" + BASE]
    assert len(sites) == 3 and {site.root for site in sites} == {tmp_path / "site"}


def test_without_the_lock_the_askers_would_build_again(tmp_path, monkeypatch):
    """Planted: the lock taken away, the askers race, and each builds."""
    from tests.browser import conftest as browser

    monkeypatch.setattr(browser.fcntl, "flock", lambda *args: None)
    builds, _ = ask_three_times(tmp_path, monkeypatch)
    assert len(builds) == 3
