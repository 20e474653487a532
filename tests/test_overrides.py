"""The template overrides stay copies of the theme's own partials, changed only where we mean to.

``overrides/partials/search-material.html`` and ``source.html`` are Material's partials with one
attribute changed each; ``search-zensical.html`` is Zensical's partial as it is. When a new
Material or Zensical changes its partial, the copy here would silently keep the old one: this
test fails first, and says which file to copy again.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OVERRIDES = ROOT / "overrides" / "partials"
HEADER = re.compile(r"\A\{#-.*?-#\}\n", re.S)


def _theme_partial(package, name):
    module = __import__(package)  # both pinned in constraints.txt (make install)
    return (Path(module.__file__).parent / "templates" / "partials" / name).read_text(encoding="utf-8")


def _body(text):
    return HEADER.sub("", text, count=1)


CHANGES = [
    # (our file, theme package, theme partial, the change: (theirs, ours))
    ("search-material.html", "material", "search.html",
     ('role="dialog">', 'role="dialog" aria-label="Search">')),
    ("source.html", "material", "source.html", (' data-md-component="source">', ">")),
    ("search-zensical.html", "zensical", "search.html", None),
]


def problem(mine, original, change, where):
    """Why ``mine`` is not ``original`` with ``change`` made, or ``None``."""
    mine, original = _body(mine), _body(original)
    if change is not None:
        old, new = change
        if original.count(old) != 1:
            return f"{where} changed: {old!r} is not there once"
        original = original.replace(old, new)
    if mine != original:
        return f"the override is no longer {where} with the one change: copy the theme's file again and make the change"
    return None


@pytest.mark.parametrize(("ours", "package", "theirs", "change"), CHANGES, ids=[c[0] for c in CHANGES])
def test_override_is_the_theme_partial_with_one_change(ours, package, theirs, change):
    mine = (OVERRIDES / ours).read_text(encoding="utf-8")
    assert problem(mine, _theme_partial(package, theirs), change, f"{package}'s partials/{theirs}") is None


def test_a_drifted_theme_partial_is_caught():
    """Plant: the theme's partial gains a line the copy lacks, or loses the attribute we change."""
    mine = (OVERRIDES / "source.html").read_text(encoding="utf-8")
    theirs = _theme_partial("material", "source.html")
    change = CHANGES[1][3]
    assert problem(mine, theirs, change, "x") is None
    drifted = theirs.replace("</a>", '  <span class="md-source__facts"></span>\n</a>')
    assert "no longer" in problem(mine, drifted, change, "x")
    reordered = theirs.replace(' data-md-component="source">', ">").replace("<a ", '<a data-md-component="source" ')
    assert "is not there once" in problem(mine, reordered, change, "x")


def test_the_search_dialog_partial_picks_one_copy_per_generator():
    text = (OVERRIDES / "search.html").read_text(encoding="utf-8")
    assert '{% if generator is defined %}{% include "partials/search-zensical.html" %}' in text
    assert '{% else %}{% include "partials/search-material.html" %}' in text
