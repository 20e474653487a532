"""Every page in the nav, as a reader's Chromium loads it: light and dark, desktop and phone.

The pages come from ``mkdocs.yml``'s nav, so each chapter added there is checked too.
Each (page, variant) is loaded once, cold, in a fresh context; the tests below read that one
survey (see ``conftest.survey``). Screenshots land in ``artifacts/screenshots/``.
"""

import re

import pytest

from tests.browser.conftest import NAV, VARIANTS

PAGES = [url for _, _, url in NAV]
BUDGET_KB = 400


def _ids(url):
    return "/" + url


@pytest.mark.parametrize("path", PAGES, ids=_ids)
def test_page_loads_cleanly_from_this_server_only(survey, path):
    seen = survey(path)
    assert seen.load == [], "\n".join(seen.load)
    assert seen.third_party == [], f"requests to another host: {seen.third_party}"


@pytest.mark.parametrize("path", PAGES, ids=_ids)
@pytest.mark.parametrize("variant", ["desktop-light", "mobile-dark"])
def test_every_formula_is_typeset(survey, path, variant):
    seen = survey(path)[variant]
    assert seen.math == [], "\n".join(seen.math)


@pytest.mark.parametrize("path", PAGES, ids=_ids)
@pytest.mark.parametrize("variant", VARIANTS)
def test_no_sideways_scroll(survey, path, variant):
    seen = survey(path)[variant]
    assert seen.layout == [], "\n".join(seen.layout)


@pytest.mark.parametrize("path", PAGES, ids=_ids)
@pytest.mark.parametrize("variant", ["desktop-light", "desktop-dark"])
def test_no_serious_accessibility_violations(survey, path, variant):
    seen = survey(path)[variant]
    report = [f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}" for v in seen.axe]
    assert report == [], "\n".join(report)


@pytest.mark.parametrize("path", PAGES, ids=_ids)
def test_figures_stay_legible_in_dark_mode(survey, path):
    seen = survey(path)["desktop-dark"]
    assert seen.figures == [], "\n".join(seen.figures)


@pytest.mark.parametrize("path", PAGES, ids=_ids)
def test_page_stays_within_budget(survey, path):
    """The issue asks it of a chapter; every page of the nav is held to it."""
    weights = survey(path).weights
    kb = {k: round(v / 1024, 1) for k, v in weights.items()}
    assert weights["total"] < BUDGET_KB * 1024, f"cold load of /{path} transfers {kb}"
    assert weights["js"] < 100 * 1024, f"JavaScript grew (math must be rendered at build time): {kb}"
    math_js = [u for u in survey(path).requests if re.search(r"(katex|mathjax|polyfill)[^/]*\.js", u, re.I)]
    assert math_js == [], f"math JavaScript requested: {math_js}"
