"""Every address published before the split answers under the sub-path, in Chromium.

``tests/test_moved_anchors.py`` says where each recorded page and heading anchor must land (its
own page, or where ``docs/assets/moved-anchors.json`` sends it) and checks that on the built HTML.
Here a browser visits every one of them under ``/dismantling-neural-networks/``, on a full load,
and must end at that address on an element that is the heading with that text: what
``docs/assets/moved-anchors.js`` does is what is checked. A moved anchor is also reached by
Material's instant navigation, a page that went away is followed from the 404 page, and a planted
fault (the script missing) is seen.
"""

import json

import pytest

from tests.browser import checks
from tests.test_moved_anchors import MOVES, PUBLISHED, destinations, load

HEADING_TEXT = """id => {
  const e = document.getElementById(id);
  return e && /^H[1-6]$/.test(e.tagName) ? e.textContent.replace(/¶/g, "").replace(/\\s+/g, " ").trim() : null;
}"""


@pytest.fixture(scope="module")
def landing(site):
    where, errors = destinations(site.root, load(PUBLISHED), load(MOVES))
    assert errors == [], "\n".join(errors)
    return where


@pytest.fixture(scope="module")
def visitor(browser):
    """One tab (warm cache) that visits every address with a full load."""
    context = browser.new_context(viewport=checks.DESKTOP, color_scheme="light")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def arrive(page, site, old, new, text, patience_ms=5000):
    """Problems with opening ``old`` ("page/#anchor") fresh: it must end at ``new`` on its heading."""
    page.goto("about:blank")
    page.goto(site.url(old), wait_until="load")
    want = site.url(new)
    try:
        # the new document parsed in full: a redirect's target page may still be loading
        page.wait_for_function("url => location.href === url && document.readyState === 'complete'",
                               arg=want, timeout=patience_ms)
    except Exception:  # Playwright's TimeoutError: say where it stayed
        return [f"{old}: stayed at {page.url}, expected {want}"]
    if "#" not in new:
        shown = page.evaluate("() => document.querySelector('.md-content h1')?.textContent.replace(/¶/g, '').trim()")
        return [] if shown == text else [f"{old}: landed at {new} titled {shown!r}, expected {text!r}"]
    shown = page.evaluate(HEADING_TEXT, new.partition("#")[2])
    return [] if shown == text else [f"{old}: landed at {new} on {shown!r}, expected the heading {text!r}"]


def stay(page, site, old, text):
    """Problems with going to ``old`` ("page/#anchor", an anchor the page still has) by changing the
    address's anchor in the open page, as a reader following an in-page link does: the script runs
    (on ``hashchange``) and must leave the reader there, on the heading."""
    # resolves once every hashchange listener registered before ours (the script's) has run, and one task more
    page.evaluate("""hash => new Promise(done => {
      addEventListener("hashchange", () => setTimeout(done, 0), {once: true});
      location.hash = hash;
    })""", "#" + old.partition("#")[2])
    if page.url != site.url(old):
        return [f"{old}: went to {page.url}, expected to stay"]
    shown = page.evaluate(HEADING_TEXT, old.partition("#")[2])
    return [] if shown == text else [f"{old}: stayed on {shown!r}, expected the heading {text!r}"]


@pytest.mark.parametrize("page", list(load(PUBLISHED)), ids=lambda p: "/" + p)
def test_every_published_anchor_of_the_page_lands_on_its_heading(visitor, site, landing, page):
    """An anchor that moved is opened fresh (a full load each: the script must send the reader on);
    the anchors the page still has are checked in one loaded copy of the page (the first on a full
    load, the others by changing the address's anchor), which runs the same script for each."""
    problems, loaded = [], False
    for anchor in load(PUBLISHED)[page]:
        old = f"{page}#{anchor}"
        new, text = landing[old]
        if new != old or not loaded:
            problems += arrive(visitor, site, old, new, text)
            loaded = new == old
        else:
            problems += stay(visitor, site, old, text)
    assert problems == [], "\n".join(problems)


def test_a_moved_anchor_is_followed_after_instant_navigation(new_page, site, landing):
    moved = [(old, new) for old, (new, _) in landing.items() if old != new]
    if not moved:
        pytest.skip("no anchor has moved yet")
    old, new = moved[0]
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    visit = checks.load(page, site.url(""), site.origin)
    page.evaluate("window.__noReloadMarker = true")
    page.evaluate("""url => { const a = document.createElement("a"); a.href = url; a.id = "old-link";
                              a.textContent = "old"; document.querySelector("article").append(a); }""",
                  site.url(old))
    page.click("#old-link")
    page.wait_for_function("url => location.href === url && document.readyState === 'complete'",
                           arg=site.url(new))
    assert page.evaluate(HEADING_TEXT, new.partition("#")[2]) == landing[old][1]
    assert checks.load_problems(visit) == []


def _with_map(page, table):
    """Serve ``table`` as the moved-anchors map to ``page`` (a planted map; the built site is untouched)."""
    page.route("**/assets/moved-anchors.json",
               lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(table)))


def test_a_page_that_went_away_is_followed_from_the_404_page(new_page, site):
    anchor, text = next(iter(load(PUBLISHED)["loss/"].items()))
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    _with_map(page, {"gone-chapter/": "loss/", "gone-chapter/#renamed": f"loss/#{anchor}"})
    assert arrive(page, site, "gone-chapter/", "loss/", text="Loss") == []
    assert arrive(page, site, f"gone-chapter/#{anchor}", f"loss/#{anchor}", text) == []
    assert arrive(page, site, "gone-chapter/#renamed", f"loss/#{anchor}", text) == []


def test_a_missing_script_is_caught(new_page, site):
    anchor, text = next(iter(load(PUBLISHED)["loss/"].items()))
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    _with_map(page, {"loss/#an-old-name": f"loss/#{anchor}"})
    assert arrive(page, site, "loss/#an-old-name", f"loss/#{anchor}", text) == []
    page.route("**/assets/moved-anchors.js", lambda route: route.fulfill(status=200, body=""))
    assert arrive(page, site, "loss/#an-old-name", f"loss/#{anchor}", text, patience_ms=1500) == [
        f"loss/#an-old-name: stayed at {site.url('loss/#an-old-name')}, expected {site.url('loss/#' + anchor)}"]


def test_staying_sees_a_script_that_sends_a_present_anchor_away(new_page, site):
    """The in-page check of an anchor the page still has bites: a script that moves the reader on
    from it, or a heading with other text, is reported."""
    anchor, text = next(iter(load(PUBLISHED)["loss/"].items()))
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    page.route("**/assets/moved-anchors.js", lambda route: route.fulfill(
        status=200, content_type="application/javascript",
        body='addEventListener("hashchange", () => location.replace(location.href.split("#")[0] + "#elsewhere"));'))
    page.goto(site.url("loss/"), wait_until="load")
    assert stay(page, site, f"loss/#{anchor}", text) == [
        f"loss/#{anchor}: went to {site.url('loss/#elsewhere')}, expected to stay"]
    page.unroute("**/assets/moved-anchors.js")
    page.goto(site.url("loss/"), wait_until="load")
    assert stay(page, site, f"loss/#{anchor}", "Another heading") == [
        f"loss/#{anchor}: stayed on {text!r}, expected the heading 'Another heading'"]
