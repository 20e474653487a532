"""A checked number in the browser: plain text to read, its expression a Tab key away.

The claims extension (``src/sitekit/extension.py``) wraps each tied number so that hovering it
or reaching it with the keyboard shows the expression it is checked against, and so that the
expression is the number's accessible description. Taken on the first page that has one.
"""

import pytest

from tests.browser import checks
from tests.browser.conftest import CHAPTERS


def test_a_checked_number_shows_its_expression_on_focus_and_describes_itself(new_page, site):
    path = next((p for p in CHAPTERS if 'class="claim-value"' in site.html(p)), None)
    if path is None:
        pytest.skip("no chapter has a checked number yet")
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    visit = checks.load(page, site.url(path), site.origin)
    number = page.locator(".claim-value").first
    hint = page.locator(".claim-hint").first
    assert not hint.is_visible(), "the hint shows before the reader asks for it"
    number.focus()  # what the Tab key does
    assert page.evaluate("document.activeElement.classList.contains('claim-value')")
    assert hint.is_visible(), "focusing a checked number does not show its expression"
    box, view = hint.bounding_box(), page.viewport_size
    assert box["width"] > 0 and box["x"] + box["width"] <= view["width"], f"the hint leaves the page: {box}"
    text = hint.inner_text()
    assert text.startswith("Checked against the code: ") and len(text) > len("Checked against the code: ")
    described = page.evaluate(
        "el => document.getElementById(el.getAttribute('aria-describedby')).textContent",
        number.element_handle())
    assert described == text
    page.locator("body").click(position={"x": 5, "y": 5})
    assert not hint.is_visible(), "the hint stays after focus leaves"
    assert checks.load_problems(visit) == []
