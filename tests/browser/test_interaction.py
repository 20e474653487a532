"""What a reader does on the real site: instant navigation, tabs, copy, dark mode, search.

Pages are picked from the nav and the built HTML (the first page that has tabs, figures,
code), so the tests follow the site as chapters are added.
"""

import pytest

from tests.browser import checks
from tests.browser.conftest import CHAPTERS, NAV

PAGES = [url for _, _, url in NAV]


def _open(new_page, site, path, **options):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light", **options)
    return page, checks.load(page, site.url(path), site.origin)


@pytest.fixture(scope="module")
def reader(browser, site):
    """One page that wanders the site (warm cache), for the instant-navigation tests."""
    context = browser.new_context(viewport=checks.DESKTOP, color_scheme="light")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page, checks.load(page, site.url(""), site.origin)
    context.close()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: "/" + p)
def test_chapter_reached_by_instant_navigation_is_typeset(reader, site, path):
    page, visit = reader
    if page.url != site.url(""):
        page.goto(site.url(""))
        visit.settle(page)
    problems = checks.navigate_instantly(page, visit, site.url(path), site.title(path))
    problems += checks.math_problems(page, site.expected_formulas(path))
    problems += checks.load_problems(visit) + checks.third_party_requests(visit)
    assert problems == [], "\n".join(problems)


def test_tab_choice_shows_its_content_and_is_kept_on_the_next_page(new_page, site):
    pages = [p for p in PAGES if site.has_tabs(p)]
    if not pages:
        pytest.skip("no page has Math | NumPy | PyTorch tabs yet (test_planted covers the mechanism)")
    page, visit = _open(new_page, site, pages[0])
    assert checks.tab_problems(page, "Math") == [], "Math is not the default tab"
    checks.choose_tab(page, "PyTorch")
    assert checks.tab_problems(page, "PyTorch") == []
    following = pages[1] if len(pages) > 1 else pages[0]  # the same page reloaded if it is the only one
    page.goto(site.url(following))
    assert checks.tab_problems(page, "PyTorch") == [], f"the choice was not kept on /{following}"
    assert checks.load_problems(visit) == []


def test_copy_button_copies_the_code(new_page, site):
    path = next((p for p in CHAPTERS if '<div class="highlight">' in site.html(p)), None)
    if path is None:
        pytest.skip("no chapter has a code block yet")
    page, visit = _open(new_page, site, path, permissions=["clipboard-read", "clipboard-write"])
    assert checks.copy_problems(page) == []
    assert checks.load_problems(visit) == []


def test_palette_toggle_switches_to_dark_and_figures_stay_legible(new_page, site):
    page, visit = _open(new_page, site, "")
    assert checks.toggle_palette(page) == "slate"
    figured = next((p for p in CHAPTERS if site.has_figures(p)), None)
    if figured is None:
        pytest.skip("no chapter has a figure yet")
    page.goto(site.url(figured))
    assert page.evaluate("document.body.dataset.mdColorScheme") == "slate", "dark mode not kept"
    assert checks.figure_problems(page) == []
    assert checks.load_problems(visit) == []


def test_search_finds_a_chapter_by_its_title(new_page, site):
    chapter = next((p for p in CHAPTERS), "")
    title = site.title(chapter).split(" - ")[0]
    page, visit = _open(new_page, site, "")
    paths, text = checks.search(page, title)
    assert site.path(chapter) in paths, f"search for {title!r} lists {paths}"
    assert checks.raw_tex(text) == [], "search results show TeX source"
    assert checks.load_problems(visit) + checks.third_party_requests(visit) == []


def test_search_for_softmax_lists_the_nonlinearity_page(new_page, site):
    path = next((url for _, title, url in NAV if title and title.lower().replace("-", "") == "nonlinearity"), None)
    if path is None:
        pytest.skip("the Non-linearity chapter is not in the nav yet")
    page, visit = _open(new_page, site, "")
    paths, text = checks.search(page, "softmax")
    assert site.path(path) in paths, f"search for softmax lists {paths}"
    assert checks.raw_tex(text) == [], "search results show TeX source"
    assert checks.load_problems(visit) + checks.third_party_requests(visit) == []
