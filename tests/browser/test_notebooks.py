"""The "Download notebook" action (``overrides/main.html``, ``sitekit.notebooks``) as readers meet it.

On every chapter page it sits by the title, is named for screen readers, is in the tab order,
and downloads that chapter's notebook, a valid nbformat v4 file; no other page has it. The suite
serves the site under a project-site sub-path (``conftest.BASE``), and the link is relative, so
it works there as on a site at the root.
"""

import re

import nbformat
import pytest

from tests.browser import checks
from tests.browser.conftest import CHAPTERS, NAV

NAME = checks.NOTEBOOK_ACTION


def _open(new_page, site, url):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light", accept_downloads=True)
    return page, checks.load(page, url, site.origin)


def _notebook(text, path, site):
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert f"]({site.url(path)})" in nb.cells[0].source, "the first cell should link back to its chapter"
    assert any(c.cell_type == "code" and c.outputs for c in nb.cells), "a chapter notebook has code with outputs"
    return nb


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: "/" + p)
def test_download_action_serves_the_chapters_notebook(survey, site, path):
    """Read from the page's survey (its one cold load; ``checks.download_action``); its load problems,
    the download's request included, are held by test_pages.py's load test."""
    seen = survey(path).download
    assert seen is not None, f"/{path}: the survey did not try the action"
    assert seen["count"] == 1, f"/{path}: no single link named {NAME!r}"
    assert seen["visible"]
    # Material's instant navigation makes every href absolute in the live page: read the built HTML.
    href = re.search(r'<a href="([^"]*)"[^>]*data-notebook-action', site.html(path))[1]
    assert not href.startswith(("/", "http:", "https:")), f"{href}: absolute, so it breaks under a sub-path"
    assert seen["beside"], f"/{path}: the action is not beside the title"
    assert seen["label"] == NAME
    assert seen["tab_index"] >= 0
    assert seen["filename"] == path.strip("/") + ".ipynb"
    assert seen["url"] == site.url(path.strip("/") + ".ipynb")  # under the sub-path
    _notebook(seen["text"], path, site)
    assert seen["text"] == (site.root / (path.strip("/") + ".ipynb")).read_text(encoding="utf-8")


def test_no_other_page_has_the_action(site):
    others = [url for _, _, url in NAV if url not in CHAPTERS]
    assert others, "the nav should have pages outside Chapters (home, API reference)"
    assert [p for p in others if "data-notebook-action" in site.html(p)] == []


def test_planted_a_broken_notebook_or_a_missing_action_is_caught(new_page, site):
    path = CHAPTERS[0]
    page, _ = _open(new_page, site, site.url(path))
    with page.expect_download() as download:
        page.get_by_role("link", name=NAME, exact=True).click()
    good = open(download.value.path(), encoding="utf-8").read()
    _notebook(good, path, site)
    broken = good.replace('"cell_type": "code"', '"cell_type": "kode"', 1)
    with pytest.raises(nbformat.ValidationError):
        _notebook(broken, path, site)
    with pytest.raises(AssertionError, match="link back to its chapter"):
        _notebook(good.replace(site.url(path), site.url("elsewhere/")), path, site)
    page.evaluate("document.querySelector('[data-notebook-action]').remove()")
    assert checks.download_action(page) == {"count": 0}
