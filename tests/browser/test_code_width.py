"""At 1280 px no Python code block scrolls sideways: the 88-character limit of tests/test_code_width.py fits.

``extra.css`` sizes code so that 88 characters fit a block in the column and inside an
admonition or a collapsible exercise; this looks at every visible Python block of every nav
page, closed exercises opened, in Chromium (``checks.scrolling_code``, in the page survey's one
load, ``conftest.survey``). A planted page shows that an 88-character line fits and a
95-character one is reported.
"""

import pytest

from tests.browser import checks
from tests.browser.conftest import CODE_VARIANT, NAV, VARIANTS
from tests.browser.test_figures import planted  # noqa: F401  (the throwaway site, code.md)

PAGES = [url for _, _, url in NAV]
@pytest.mark.parametrize("path", PAGES, ids=lambda url: "/" + url)
def test_no_python_block_scrolls_at_1280(survey, path):
    assert VARIANTS[CODE_VARIANT] == (checks.DESKTOP, "light")
    assert survey(path).code == []


def test_planted_long_line_scrolls_and_is_reported(new_page, planted):  # noqa: F811
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    checks.load(page, planted.url("code/"), planted.origin)
    found = checks.scrolling_code(page)
    assert len(found) == 1 and found[0].startswith("95 characters: z = 3 + 3"), found
