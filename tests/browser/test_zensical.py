"""Search in a site Zensical builds, as readers use it (``tests/test_zensical.py`` checks the whole site's HTML).

Zensical has its own search (a dialog in a shadow root, opened by the header's button, its own
index ``search.json``); Material's, in MkDocs' build, is ``test_interaction.py``'s. To keep the
suite to one Zensical build of the whole site (``tests/test_zensical.py``'s), this builds a small
one: the real ``mkdocs.yml`` (theme, overrides, extensions), its assets and figures, the
Softmax chapter under Part I, served under the project-site sub-path (``conftest.BASE``) like
MkDocs' build. About 5 s to build. Planted: the index missing, and the search finds nothing, caught.
"""

import shutil
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import checks
from tests.browser.conftest import ROOT, Site, serving
from tests.test_zensical import zensical_build

QUERY, CHAPTER = "softmax", "softmax/"
NAV = """nav:
  - Home: index.md
  - "Part I: one network, by hand":
      - Softmax and its Jacobian: softmax.md
"""


def small_project(tmp):
    """The real configuration with two pages: a home page and the Softmax chapter."""
    docs = tmp / "docs"
    shutil.copytree(ROOT / "docs" / "assets", docs / "assets", ignore=shutil.ignore_patterns("katex"))
    shutil.copytree(ROOT / "docs" / "figures", docs / "figures")
    shutil.copy(ROOT / "docs" / "softmax.md", docs / "softmax.md")
    (docs / "index.md").write_text("# Home\n\nStart with [Softmax](softmax.md).\n", encoding="utf-8")
    for name in ("src", "overrides", "LICENSE"):
        (tmp / name).symlink_to(ROOT / name)
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    (tmp / "mkdocs.yml").write_text(config[: config.index("\nnav:\n") + 1] + NAV, encoding="utf-8")
    return tmp


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory):
    project = small_project(tmp_path_factory.mktemp("zensical-browser"))

    def make_site(origin):
        site = Site(root=project / "site", raw=None, origin=origin)
        zensical_build(project, strict=False, SITE_URL=site.url())  # links to the chapters left out: not strict
        return site

    with serving(make_site) as site:
        yield site


def search(page, query, timeout=10_000):
    """Open Zensical's search, type ``query``; the results' paths and text (``[]`` if none came)."""
    page.locator(".md-search__button").click()
    results = page.get_by_role("listbox", name="Search results")
    try:
        page.get_by_role("combobox", name="Search").fill(query, timeout=timeout)
        results.get_by_role("option").first.wait_for(timeout=timeout)
    except PlaywrightTimeout:  # no search box (the index did not load), or no result
        return [], ""
    paths = [urlsplit(o.get_attribute("href")).path for o in results.get_by_role("option").all()]
    return paths, results.text_content()


def test_zensical_search_finds_the_chapter_without_tex(new_page, zensical_site):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    visit = checks.load(page, zensical_site.url(), zensical_site.origin)
    paths, text = search(page, QUERY)
    assert zensical_site.path(CHAPTER) in paths, f"search for {QUERY!r} lists {paths}"
    assert len(paths) >= 3
    assert checks.raw_tex(text) == [], "search results show TeX source"
    assert checks.load_problems(visit) + checks.third_party_requests(visit) == []


def test_planted_missing_search_index_is_caught(new_page, zensical_site):
    index = zensical_site.root / "search.json"
    moved = index.with_name("search.json.planted")
    index.rename(moved)
    try:
        page = new_page(viewport=checks.DESKTOP, color_scheme="light")
        checks.load(page, zensical_site.url(), zensical_site.origin)
        paths, _ = search(page, QUERY, timeout=4000)
    finally:
        moved.rename(index)
    assert zensical_site.path(CHAPTER) not in paths
