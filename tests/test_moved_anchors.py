"""Every address published before the chapters were split still leads to its section.

``tests/data/published_anchors.json`` is the record: every chapter page and every heading anchor
on it, with the heading's text, from a build of main at cf876c6 (before issue 22 moved anything).
It is history, never regenerated. ``docs/assets/moved-anchors.json`` maps an anchor that left its
page (or was renamed) to its new place, and ``docs/assets/moved-anchors.js`` follows the map in the
reader's browser. Here, on a fresh build, each recorded address must be one of:

* still there: the page has a heading with that anchor (a retitled heading keeps it by pinning
  it, ``## New title { #old-anchor }``); a numbered duplicate (``the-polaris-check_1``) must
  still be the same heading, so a suffix that shifted onto another section is caught, or
* moved: the map sends it to a page and heading anchor that exist (a whole page that went away
  maps as ``"old-page/"``, and its anchors follow it unless mapped one by one).

Map entries that the script could never use (the anchor is still on its page), or that point at
nothing, fail too. ``tests/browser/test_moved_anchors.py`` then visits every address under the
project sub-path.
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "tests" / "data" / "published_anchors.json"
MOVES = ROOT / "docs" / "assets" / "moved-anchors.json"
KEY = re.compile(r"^(?:[a-z0-9-]+/)+(?:#[\w.-]+)?$")


class _Headings(HTMLParser):
    """{id: text} of a page's headings h1-h6 (the permalink's pilcrow left out)."""

    def __init__(self):
        super().__init__()
        self.found, self.current, self.text = {}, None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag) and attrs.get("id"):
            self.current, self.text = attrs["id"], []

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self.current:
            self.found[self.current] = re.sub(r"\s+", " ", "".join(self.text)).replace("¶", "").strip()
            self.current = None

    def handle_data(self, data):
        if self.current:
            self.text.append(data)


def headings(site, page):
    """{anchor: heading text} of a built page ("loss/"), or None when the build has no such page."""
    path = site / page / "index.html"
    if not path.is_file():
        return None
    parser = _Headings()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.found


def destinations(site, published, moves):
    """(where each published address lands, errors).

    where: {"page/#anchor": ("new-page/#anchor", heading text there)}; errors: sentences.
    """
    where, errors = {}, []
    for key in moves:
        if not KEY.match(key) or not KEY.match(moves[key]):
            errors.append(f"moved-anchors.json: {key!r} -> {moves[key]!r}: write 'page/#anchor' or 'page/', "
                          f"relative to the site's root")
    if errors:
        return where, errors
    for page, anchors in published.items():
        here = headings(site, page)
        for anchor, text in anchors.items():
            old = f"{page}#{anchor}"
            if here is not None and anchor in here:
                if re.search(r"_\d+$", anchor) and here[anchor] != text:  # a pinned {#id} may retitle
                    errors.append(f"{old}: now the heading {here[anchor]!r}, was {text!r}; pin the old "
                                  f"heading's anchor with {{#{anchor}}} or rename the new one")
                where[old] = (old, here[anchor])
                continue
            target = moves.get(old) or (here is None and page in moves and f"{moves[page].split('#')[0]}#{anchor}")
            if not target:
                gone = "the page is gone" if here is None else "no such anchor on the page any more"
                errors.append(f"{old}: {gone}, and moved-anchors.json does not say where it went")
                continue
            new_page, _, new_anchor = target.partition("#")
            there = headings(site, new_page)
            if there is None or new_anchor not in there:
                errors.append(f"{old}: moved-anchors.json sends it to {target}, which the build does not have")
                continue
            where[old] = (target, there[new_anchor])
    for key in moves:
        page, _, anchor = key.partition("#")
        here = headings(site, page)
        if here is not None and (not anchor or anchor in here):
            errors.append(f"moved-anchors.json: {key} is still on its page, so the entry is never used")
    return where, errors


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def site(published_site):
    """The strict build as the workflow makes it (conftest.py's, shared with other test files)."""
    return published_site[0]


def test_the_record_holds_every_page_and_anchor_published_before_the_split():
    published = load(PUBLISHED)
    assert list(published) == ["linearity/", "nonlinearity/", "loss/", "backpropagation/", "initialization/",
                               "gradient-descent/", "training/", "autograd/", "notes-on-the-original/"]
    assert sum(map(len, published.values())) == 151
    assert published["nonlinearity/"]["the-jacobian-of-softmax"] == "The Jacobian of softmax"


def test_every_published_address_still_leads_to_its_section(site):
    where, errors = destinations(site, load(PUBLISHED), load(MOVES))
    assert errors == []
    assert len(where) == sum(map(len, load(PUBLISHED).values()))


# ---------------------------------------------------------------- planted faults are caught

PAGES = {
    "a/index.html": '<h1 id="a">A</h1><h2 id="intro">Intro</h2><h2 id="check">Check</h2><h2 id="check_1">Check</h2>',
    "b/index.html": '<h1 id="b">B</h1><h2 id="softmax">Softmax<a class="headerlink" href="#softmax">¶</a></h2>',
}
RECORD = {"a/": {"a": "A", "intro": "Intro", "check_1": "Check", "softmax": "Softmax"}, "old/": {"x": "X"}}


@pytest.fixture
def planted(tmp_path):
    for name, text in PAGES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_correct_planted_map_passes(planted):
    moves = {"a/#softmax": "b/#softmax", "old/": "b/#b", "old/#x": "b/#softmax"}
    where, errors = destinations(planted, RECORD, moves)
    assert errors == []
    assert where["a/#softmax"] == ("b/#softmax", "Softmax") and where["old/#x"] == ("b/#softmax", "Softmax")


@pytest.mark.parametrize("moves, error", [
    ({"old/": "b/"}, "a/#softmax: no such anchor on the page any more, and moved-anchors.json does not say "
                     "where it went"),
    ({"a/#softmax": "b/#softmax"}, "old/#x: the page is gone, and moved-anchors.json does not say where it went"),
    ({"a/#softmax": "b/#soft-max", "old/": "b/"}, "a/#softmax: moved-anchors.json sends it to b/#soft-max, "
                                                  "which the build does not have"),
    ({"a/#softmax": "b/#softmax", "old/": "b/", "a/#intro": "b/#b"},
     "moved-anchors.json: a/#intro is still on its page, so the entry is never used"),
    ({"/a/#softmax": "b/#softmax"}, "moved-anchors.json: '/a/#softmax' -> 'b/#softmax': write 'page/#anchor' or "
                                    "'page/', relative to the site's root"),
])
def test_a_planted_fault_in_the_map_is_caught(planted, moves, error):
    assert error in destinations(planted, RECORD, moves)[1]


def test_a_shifted_suffix_that_now_names_another_section_is_caught(planted):
    (planted / "a/index.html").write_text('<h1 id="a">A</h1><h2 id="intro">Intro</h2><h2 id="check_1">Intro</h2>')
    errors = destinations(planted, RECORD, {"a/#softmax": "b/#softmax", "old/": "b/#b", "old/#x": "b/#softmax"})[1]
    assert errors == ["a/#check_1: now the heading 'Intro', was 'Check'; pin the old heading's anchor with "
                      "{#check_1} or rename the new one"]
