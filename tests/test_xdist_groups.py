"""conftest.xdist_group: how `make test` (pytest-xdist, --dist loadgroup) splits the suite over workers.

A group runs on one worker, which builds its fixtures once. The browser suite's page survey is in
two halves (two workers, each with its own build): every page's tests must stay in one half, or
that page would be loaded and surveyed twice; the rest of the browser suite is one group.
"""

import collections
import subprocess
import sys

import conftest
from tests.browser.conftest import NAV


def collected(path):
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", path],
                         capture_output=True, text=True, check=True, cwd=conftest.Path(__file__).parents[1]).stdout
    return [line for line in out.splitlines() if "::" in line]


def halves(nodeids, group=conftest.xdist_group):
    found = collections.defaultdict(set)
    for nodeid in nodeids:
        found[conftest.page_of(nodeid)].add(group(nodeid))
    return found


def test_each_page_is_surveyed_in_one_half_and_the_halves_are_even():
    ids = collected("tests/browser/test_pages.py")
    found = halves(ids)
    assert {page for page in found} == {"/" + url for _, _, url in NAV}
    assert [page for page, groups in found.items() if len(groups) != 1] == []
    sizes = collections.Counter(next(iter(groups)) for groups in found.values())
    assert set(sizes) == {"browser pages 1/2", "browser pages 2/2"}
    assert abs(sizes["browser pages 1/2"] - sizes["browser pages 2/2"]) <= 1


def test_a_grouping_that_splits_a_page_is_seen():
    """Planted: grouping by test name instead of by page puts one page's tests in both halves."""
    ids = collected("tests/browser/test_pages.py")
    by_name = lambda nodeid: f"browser pages {len(nodeid.split('[')[0]) % 2 + 1}/2"  # noqa: E731
    assert any(len(groups) > 1 for groups in halves(ids, by_name).values())


def test_the_rest_of_the_browser_suite_and_other_files_keep_their_groups():
    assert conftest.xdist_group("tests/browser/test_book.py::test_x") == "browser"
    assert conftest.xdist_group("tests/browser/test_figures.py::test_x[/loss/]") == "browser"
    assert conftest.xdist_group("tests/test_site.py::test_x") == "site build"
    assert conftest.xdist_group("tests/test_conv.py::test_x[3]") == "tests/test_conv.py"
    assert conftest.xdist_group("docs/loss.md::line 12") is None
    assert conftest.xdist_group("tests/test_notebooks.py::test_notebook[loss.md]") is None
