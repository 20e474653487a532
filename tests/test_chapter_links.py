"""'The next chapter' is the next page of mkdocs.yml's nav, and the home road map follows the nav.

The nav groups chapters into parts (sections titled "Part I: ...", "Part II: ..."); reading order
runs through the parts, so the last chapter of Part I is followed by the first of Part II. The
home road map shows each part as a heading with the part's title, and under it links every
chapter of that part (its numbered items in nav order).

Everything is derived from the nav, so inserting, moving or renaming a chapter there makes every
stale "next chapter" sentence fail, naming file and line.

The rule for a sentence that says "next chapter" (or "following chapter") or "previous chapter"
(or "preceding chapter", "chapter before"): the first link to a page of the nav at or after that
phrase (a link whose text is the phrase counts) must point to the nav's next (previous) page.
With no such link, the rest of the sentence must not name any other page's nav title
("The next chapter, Autograd, ..." when the nav says Gradient descent).
"""

import posixpath
import re
from pathlib import Path

import pytest
import yaml

from tests.mdblocks import scan

ROOT = Path(__file__).resolve().parents[1]
NEXT = re.compile(r"\b(?:next|following) chapter\b", re.IGNORECASE)
PREVIOUS = re.compile(r"\b(?:previous|preceding) chapter\b|\bchapter before\b", re.IGNORECASE)
LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


class _Loader(yaml.SafeLoader):
    """mkdocs.yml's tags (!ENV, !!python/name:...) are irrelevant to the nav: read them as None."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def nav_pages(config_path):
    """[(title, docs-relative path)] in the nav's reading order (the site's footer links follow it)."""
    return nav_pages_from(yaml.load(Path(config_path).read_text(encoding="utf-8"), Loader=_Loader))


PART = re.compile(r"Part [IVXLC]+\b")


def nav_parts(config_path):
    """[(part title, [docs-relative paths])] for the nav's top-level sections titled "Part ..."."""
    config = yaml.load(Path(config_path).read_text(encoding="utf-8"), Loader=_Loader)
    parts = []
    for entry in config["nav"]:
        for title, value in (entry.items() if isinstance(entry, dict) else []):
            if PART.match(title):
                parts.append((title, [path for _, path in nav_pages_from({"nav": value})]))
    return parts


def nav_pages_from(config):
    """[(title, docs-relative path)] of a loaded config's nav, in reading order."""
    def walk(entries):
        for entry in entries or []:
            if isinstance(entry, str):
                yield posixpath.splitext(posixpath.basename(entry))[0], entry
            else:
                for title, value in entry.items():
                    yield from (walk(value) if isinstance(value, list) else [(title, value)])

    return [(t, p) for t, p in walk(config["nav"]) if p.endswith(".md")]


def sentences(text):
    """(line number, sentence) for the prose of a page: fences and comments out, paragraphs joined."""
    lines = text.splitlines()
    for f in scan(lines):
        for i in range(f.start, min(f.end + 1, len(lines))):
            lines[i] = ""
    paragraphs, current = [], []
    for n, line in enumerate(lines, 1):
        stripped = re.sub(r"<!--.*?-->", "", line).strip()
        alone = re.match(r"(#+|\?\?\?\+?|!!!)\s", stripped)  # a heading or admonition title
        new_item = alone or re.match(r"([-*+]|\d+\.)\s", stripped) or stripped.startswith("|")
        if current and (not stripped or new_item):
            paragraphs.append(current)
            current = []
        if stripped:
            current.append((n, stripped))
        if alone:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    for para in paragraphs:
        text, starts = "", []
        for n, line in para:
            starts.append((len(text), n))
            text += line + " "
        for m in re.finditer(r"\S.*?(?:[.!?](?=\s+[A-Z\[`*_(])|$)", text.strip()):
            line = max(n for pos, n in starts if pos <= m.start())
            yield line, m.group(0).strip()


def resolve(page, target):
    """A link target from ``page`` as a docs-relative path without its anchor ('' for other URLs)."""
    path = target.split("#")[0]
    if not path or re.match(r"[a-z]+:", path):
        return ""
    return posixpath.normpath(posixpath.join(posixpath.dirname(page), path))


def neighbour_errors(docs, nav):
    """Every next/previous-chapter sentence on the nav's pages that disagrees with the nav."""
    order = [path for _, path in nav]
    titles = {path: title for title, path in nav}
    errors = []
    for i, page in enumerate(order):
        source = docs / page
        if not source.exists():
            continue
        for line, sentence in sentences(source.read_text(encoding="utf-8")):
            for phrase, step, word in ((NEXT, 1, "next"), (PREVIOUS, -1, "previous")):
                m = phrase.search(sentence)
                if not m:
                    continue
                j = i + step
                want = order[j] if 0 <= j < len(order) else None
                where = f"{page}:{line}"
                links = [(lm, resolve(page, lm.group(2))) for lm in LINK.finditer(sentence) if lm.end() > m.start()]
                linked = [(lm, target) for lm, target in links if target in titles and target != page]
                if want is None:
                    errors.append(f"{where}: says '{m.group(0)}' but {page} has no {word} page in the nav")
                elif linked:
                    target = linked[0][1]
                    if target != want:
                        errors.append(f"{where}: the {word} chapter links to {target}, but the nav's {word} "
                                      f"page is {want} ({titles[want]})")
                else:
                    rest = LINK.sub(r"\1", sentence[m.end():])
                    named = [titles[p] for p in order if p not in (page, want) and _names(rest, titles[p])]
                    if named and not _names(rest, titles[want]):
                        errors.append(f"{where}: the {word} chapter is called {named[0]!r}, but the nav's {word} "
                                      f"page is {want} ({titles[want]})")
    return errors


def _names(text, title):
    """True when ``text`` names the nav title (or its part before a colon), capitalised as in the nav."""
    short = title.split(":")[0].strip()
    return bool(re.search(rf"(?<![\w-]){re.escape(short)}(?![\w-])", text))


def roadmap_errors(docs, nav):
    """The home page's numbered road map: nav pages, in nav order, with none of the run left out."""
    order = [path for _, path in nav]
    home = order[0]
    listed = []
    for line in (docs / home).read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*\d+\.\s+\[[^\]]*\]\(([^)\s#]+)", line)
        if m and resolve(home, m.group(1)) in order:
            listed.append(resolve(home, m.group(1)))
    if not listed:
        return [f"{home}: no numbered road map of chapters found"]
    first = order.index(listed[0])
    run = order[first:first + len(listed)]
    return [] if listed == run else [f"{home}: the road map lists {listed}, the nav has {run} there"]


def part_errors(docs, parts, home="index.md"):
    """Each part of the nav is a heading of the home road map, linking every chapter of that part."""
    lines = (docs / home).read_text(encoding="utf-8").splitlines()
    headings = {}  # heading text -> [linked docs paths until the next heading]
    current = None
    for line in lines:
        m = re.match(r"#{2,6}\s+(.*?)\s*$", line)
        if m:
            current = headings.setdefault(m.group(1), [])
        elif current is not None:
            current += [resolve(home, lm.group(2)) for lm in LINK.finditer(line)]
    errors = []
    for title, pages in parts:
        if title not in headings:
            errors.append(f"{home}: no road-map heading for the nav's part {title!r}")
            continue
        missing = [p for p in pages if p not in headings[title]]
        if missing:
            errors.append(f"{home}: under {title!r} the road map does not link {missing}")
    return errors


def test_next_and_previous_chapter_follow_the_nav():
    assert neighbour_errors(ROOT / "docs", nav_pages(ROOT / "mkdocs.yml")) == []


def test_the_home_road_map_follows_the_nav():
    assert roadmap_errors(ROOT / "docs", nav_pages(ROOT / "mkdocs.yml")) == []


def test_the_home_road_map_shows_the_parts():
    parts = nav_parts(ROOT / "mkdocs.yml")
    assert parts and parts[0][0] == "Part I: one network, by hand"
    assert part_errors(ROOT / "docs", parts) == []


def test_a_planted_part_missing_from_the_road_map_is_caught(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n## Part I: by hand\n\n1. [Alpha](alpha.md): a.\n\n"
                                   "## Part II: modern\n\n2. [Beta](beta.md): b.\n", encoding="utf-8")
    nav = ("nav:\n  - Home: index.md\n  - 'Part I: by hand':\n      - Alpha: alpha.md\n"
           "  - 'Part II: modern':\n      - Beta: beta.md\n      - Gamma: gamma.md\n")
    (tmp_path / "mkdocs.yml").write_text(nav, encoding="utf-8")
    parts = nav_parts(tmp_path / "mkdocs.yml")
    assert parts == [("Part I: by hand", ["alpha.md"]), ("Part II: modern", ["beta.md", "gamma.md"])]
    assert part_errors(docs, parts) == ["index.md: under 'Part II: modern' the road map does not link ['gamma.md']"]
    (tmp_path / "mkdocs.yml").write_text(nav.replace("Part II: modern", "Part II: the layers"), encoding="utf-8")
    assert part_errors(docs, nav_parts(tmp_path / "mkdocs.yml")) == [
        "index.md: no road-map heading for the nav's part 'Part II: the layers'"]


def test_the_nav_is_read():
    nav = nav_pages(ROOT / "mkdocs.yml")
    assert nav[0][1] == "index.md" and len(nav) >= 8
    assert all((ROOT / "docs" / path).exists() for _, path in nav)


PLANTED_NAV = """site_name: t
site_url: !ENV [SITE_URL, "http://127.0.0.1:8000/"]
nav:
  - Home: index.md
  - Chapters:
      - Alpha: alpha.md
      - Beta: beta.md
      - "Gamma: the last": gamma.md
"""

PLANTED_PAGES = {
    "index.md": "# Home\n\n1. [Alpha](alpha.md): first.\n2. [Beta](beta.md): second.\n3. [Gamma](gamma.md): third.\n",
    "alpha.md": "# Alpha\n\nThe next chapter, [Beta](beta.md), follows.\n",
    "beta.md": "# Beta\n\nIn the [previous chapter](alpha.md#top) we began.\n\nThe next chapter, Gamma,\nends it.\n",
    "gamma.md": "# Gamma\n\nAs the previous chapter showed, [`x`](reference/x.md) and [Beta](beta.md) agree.\n",
}


def _planted(tmp_path, **changes):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in (PLANTED_PAGES | changes).items():
        (docs / name).write_text(text, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(PLANTED_NAV, encoding="utf-8")
    return docs, nav_pages(tmp_path / "mkdocs.yml")


def test_a_correct_planted_site_passes(tmp_path):
    docs, nav = _planted(tmp_path)
    assert nav == [("Home", "index.md"), ("Alpha", "alpha.md"), ("Beta", "beta.md"), ("Gamma: the last", "gamma.md")]
    assert neighbour_errors(docs, nav) == [] and roadmap_errors(docs, nav) == []


@pytest.mark.parametrize("page, text, error", [
    ("alpha.md", "# Alpha\n\nText.\nThe next chapter, [Gamma](gamma.md), follows.\n",
     "alpha.md:4: the next chapter links to gamma.md, but the nav's next page is beta.md (Beta)"),
    ("alpha.md", "# Alpha\n\nThe [next chapter](gamma.md) follows.\n",
     "alpha.md:3: the next chapter links to gamma.md, but the nav's next page is beta.md (Beta)"),
    ("beta.md", "# Beta\n\nThe next chapter, Alpha,\nends it.\n",
     "beta.md:3: the next chapter is called 'Alpha', but the nav's next page is gamma.md (Gamma: the last)"),
    ("beta.md", "# Beta\n\n!!! note\n    See the chapter before, [Gamma](gamma.md).\n",
     "beta.md:4: the previous chapter links to gamma.md, but the nav's previous page is alpha.md (Alpha)"),
    ("gamma.md", "# Gamma\n\nThe following chapter is missing.\n",
     "gamma.md:3: says 'following chapter' but gamma.md has no next page in the nav"),
])
def test_a_planted_wrong_neighbour_is_caught(tmp_path, page, text, error):
    docs, nav = _planted(tmp_path, **{page: text})
    assert neighbour_errors(docs, nav) == [error]


def test_a_chapter_inserted_in_the_nav_makes_old_links_fail(tmp_path):
    docs, nav = _planted(tmp_path)
    (docs / "between.md").write_text("# Between\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(PLANTED_NAV.replace("      - Beta", "      - Between: between.md\n      - Beta"))
    nav = nav_pages(tmp_path / "mkdocs.yml")
    assert neighbour_errors(docs, nav) == [
        "alpha.md:3: the next chapter links to beta.md, but the nav's next page is between.md (Between)",
        "beta.md:3: the previous chapter links to alpha.md, but the nav's previous page is between.md (Between)",
    ]
    assert roadmap_errors(docs, nav) == [
        "index.md: the road map lists ['alpha.md', 'beta.md', 'gamma.md'], the nav has "
        "['alpha.md', 'between.md', 'beta.md'] there"]
