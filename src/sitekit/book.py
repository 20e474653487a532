r"""The whole book as one PDF, printed from the built site by the headless Chromium the browser suite uses.

Run after ``mkdocs build`` (``make build`` and ``make pdf`` do)::

    python -m sitekit.book site        # writes site/dismantling-neural-networks.pdf

It is a post-build step, not a MkDocs hook (Zensical skips hooks): it reads the built HTML, so
the PDF shows exactly what the site shows (KaTeX prerendered, the figures' SVGs, the code with
its outputs), and it follows the nav of ``mkdocs.yml``: the home page as the introduction, then
every chapter of every part (a nav section titled ``Part I: …``, ``Part II: …``) in nav order.
A new chapter is in the book as soon as it is in the nav.

What the book does to the site's HTML (``book_html``), all in one document so that Chromium
turns every link between chapters into a link inside the PDF and every heading into a bookmark:

* each page's article only (no header, sidebars, footer, edit or notebook buttons, ``¶``);
  each page becomes a ``<section>`` with its headings one level down, under its part's ``<h1>``;
* every ``id`` is prefixed with the page's name (``loss--softmax``) and every link to a page of
  the book points at that id; a link to a page outside the book (the API reference, a notebook)
  becomes the site's full address;
* figures keep their desktop rendering (the phone's ``<source>`` is dropped) and stay SVG, so
  Chromium draws them as vectors; an explorable (JavaScript) becomes a box with a link to its
  page on the site, and, where the page names one (``data-static``), its static figure;
* folded solutions (``<details>``) are printed unfolded, as the cover says.

``pdf(site, out, browser=None)`` prints it (A4, page numbers in the footer, PDF bookmarks from
the headings; untagged, a third of a tagged PDF's size, so figures carry no alt text in it); ``book_problems(pdf, site)``
is what the browser suite checks the PDF with (``tests/browser/test_book.py``).
"""

import datetime as _dt
import html as _html
import logging
import os
import posixpath
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PDF_NAME = "dismantling-neural-networks.pdf"
BOOK_HTML = "_book-print.html"  # written next to index.html while printing, then removed
PART = re.compile(r"Part [IVXLC]+\b")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")  # the Makefile's order


# ---------------------------------------------------------------- the nav

@dataclass
class Entry:
    """A page of the book: its part (None for the introduction), nav title, source and URL path."""

    part: str | None
    title: str
    src: str
    url: str

    @property
    def slug(self):
        return self.url.strip("/").replace("/", "-") or "introduction"


def _url_of(src):
    stem = src[: -len(".md")]
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def book_entries(config_file=ROOT / "mkdocs.yml"):
    """The home page, then every page of every ``Part …`` section of the nav, in nav order."""
    from mkdocs.utils.yaml import yaml_load

    with open(config_file, encoding="utf-8") as handle:
        nav = yaml_load(handle)["nav"]
    out = []
    for item in nav:
        for title, value in (item.items() if isinstance(item, dict) else [(None, item)]):
            if isinstance(value, str) and _url_of(value) == "":
                out.insert(0, Entry(None, "Introduction", value, ""))
            elif isinstance(value, list) and title and PART.match(title):
                for sub in value:
                    for t, v in (sub.items() if isinstance(sub, dict) else [(None, sub)]):
                        if isinstance(v, str) and not v.startswith(("http://", "https://")):
                            out.append(Entry(title, t or v, v, _url_of(v)))
    return out


# ---------------------------------------------------------------- one HTML document

ARTICLE = re.compile(r'<article class="md-content__inner md-typeset">(.*?)</article>', re.S)
ATTR = re.compile(r'(?P<pre><[a-zA-Z][^<>]*?\s)(?P<name>id|for|href|src|name)="(?P<value>[^"]*)"')
EXPLORABLE = re.compile(r'<div class="explorable"(?P<attrs>[^>]*)>\s*</div>')
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _canonical_base(home_html):
    m = re.search(r'<link rel="canonical" href="([^"]+)"', home_html)
    return m[1] if m else ""


def _head(home_html):
    """The home page's stylesheets (relative to the site's root, where the book's HTML is written)."""
    links = re.findall(r'<link rel="stylesheet" href="[^"]+"[^>]*>', home_html)
    body = re.search(r"<body([^>]*)>", home_html)
    return "\n".join(links), (body[1] if body else "")


def _demote(html):
    return re.sub(r"<(/?)h([1-6])\b", lambda m: f"<{m[1]}h{min(int(m[2]) + 1, 6)}", html)


def _chapter(entry, html, entries, site_url):
    """One page's article, made a section of the book (see the module's doc)."""
    by_url = {e.url: e for e in entries}
    m = ARTICLE.search(html)
    if not m:
        raise ValueError(f"{entry.url or 'index'}.html has no <article class=\"md-content__inner md-typeset\">")
    body = m[1]
    body = re.sub(r'<a [^>]*class="md-content__button[^"]*"[^>]*>.*?</a>', "", body, flags=re.S)
    body = re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", body, flags=re.S)
    body = re.sub(r"<script\b[^>]*>.*?</script>", "", body, flags=re.S)
    body = re.sub(r"<source [^>]*>", "", body)  # the phone's rendering of a figure: the desktop one prints
    body = re.sub(r"<details(?![^>]*\bopen\b)", "<details open", body)
    page_link = site_url + entry.url

    def explorable(m):
        static = re.search(r'data-static="([^"]+)"', m["attrs"])
        fig = ""
        if static:
            src = posixpath.normpath(posixpath.join(entry.url, static[1]))
            fig = f'<p><img src="{src}" alt="The explorable\'s static figure"></p>'
        return (f'<div class="admonition book-explorable">{fig}<p>An explorable runs here on the site: '
                f'<a href="{page_link}">{_html.escape(page_link)}</a>.</p></div>')

    body = EXPLORABLE.sub(explorable, body)

    def attr(m):
        name, value = m["name"], m["value"]
        if name in ("id", "for") or (name == "name" and m["pre"].lstrip("<").startswith("input")):
            return f'{m["pre"]}{name}="{entry.slug}--{value}"'
        if name == "name":
            return m[0]
        if SCHEME.match(value) or value.startswith("//"):
            return m[0]
        if value.startswith("#"):
            return f'{m["pre"]}{name}="#{entry.slug}--{value[1:]}"'
        path, _, frag = value.partition("#")
        target = posixpath.normpath(posixpath.join(entry.url or ".", path)) if path else entry.url.rstrip("/")
        target = "" if target == "." else target
        if name == "src":
            return f'{m["pre"]}src="{target}"'
        page = target + "/" if target else ""
        if page in by_url:
            slug = by_url[page].slug
            return f'{m["pre"]}href="#{slug}--{frag}"' if frag else f'{m["pre"]}href="#ch-{slug}"'
        full = site_url + target + ("/" if value.split("#")[0].endswith("/") and target else "")
        return f'{m["pre"]}href="{full}{"#" + frag if frag else ""}"'

    body = ATTR.sub(attr, body)
    body = _demote(body)
    title = _html.escape(entry.title)
    # The page's own h1 (now h2) carries the nav's title, so bookmarks read as the nav does.
    body = re.sub(r"<h2\b([^>]*)>.*?</h2>", lambda m: f"<h2{m[1]}>{title}</h2>", body, count=1, flags=re.S)
    sections = [(ident, _html.unescape(re.sub(r"<[^>]+>", "", text)).strip())
                for ident, text in re.findall(r'<h3 id="([^"]+)"[^>]*>(.*?)</h3>', body, re.S)]
    return f'<section class="book-chapter" id="ch-{entry.slug}">\n{body}\n</section>', sections


BOOK_CSS = """
@page { size: A4; }
body { background: #fff; }
.md-typeset { font-size: 10.5pt; }
.book-cover { height: 240mm; display: flex; flex-direction: column; justify-content: center; }
.book-cover h1 { font-size: 28pt; margin: 0 0 0.4em; color: #1a237e; }
.book-cover .book-subtitle { font-size: 14pt; }
.book-cover .book-meta { margin-top: 3em; color: #444; }
.book-toc, .book-part, .book-chapter { break-before: page; }
.book-part h1 { font-size: 22pt; margin-top: 35vh; text-align: center; }
.md-typeset .book-toc ol { list-style: none; padding-left: 0; margin: 0; }
.md-typeset .book-toc li { margin: 0.15em 0; }
.md-typeset .book-toc a { text-decoration: none; color: #1a1a1a; }
.md-typeset .book-toc-part > a { font-weight: 700; }
.md-typeset .book-toc-chapter > a { font-weight: 600; color: #1a237e; }
.md-typeset .book-toc-part { margin-top: 0.8em; }
.book-explorable { border-left: 0.2rem solid #ff6e42; }
"""


def book_html(site, entries=None, *, date=None, version=None, mutate=None):
    """``(html, outline)``: the book as one HTML document, to be written at the root of the built
    ``site``, and its bookmarks ``[(level, title, id)]`` (parts, chapters, their sections)."""
    site = Path(site)
    entries = book_entries() if entries is None else entries
    home = (site / "index.html").read_text(encoding="utf-8")
    head, body_attrs = _head(home)
    site_url = _canonical_base(home)
    date = date or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d")
    version = version or build_version()
    outline, sections, parts = [], [], []
    for e in entries:
        if e.part is not None and (not parts or parts[-1] != e.part):
            parts.append(e.part)
            ident = f"part-{len(parts)}"
            sections.append(f'<section class="book-part"><h1 id="{ident}">{_html.escape(e.part)}</h1></section>')
            outline.append((0, e.part, ident))
        text, heads = _chapter(e, (site / e.url / "index.html").read_text(encoding="utf-8"), entries, site_url)
        sections.append(text)
        level = 0 if e.part is None else 1
        outline.append((level, e.title, f"ch-{e.slug}"))
        outline += [(level + 1, title, ident) for ident, title in heads]
    toc, depth = [], -1
    for level, title, ident in outline:
        if level > depth:
            toc.append("<ol>" * (level - depth))
        else:
            toc.append("</li>" + "</ol></li>" * (depth - level))
        kind = "part" if ident.startswith("part-") else "chapter" if ident.startswith("ch-") else "section"
        toc.append(f'<li class="book-toc-{kind}"><a href="#{ident}">{_html.escape(title)}</a>')
        depth = level
    toc.append("</li>" + "</ol></li>" * depth + "</ol>")
    where = f'<a href="{site_url}">{_html.escape(site_url)}</a>' if site_url else "the site"
    doc = f"""<!doctype html>
<html lang="en" class="no-js"><head><meta charset="utf-8">
<title>Dismantling Neural Networks</title>
{head}
<style>{BOOK_CSS}</style>
</head><body{body_attrs}>
<div class="md-content" data-md-component="content"><div class="md-content__inner md-typeset">
<section class="book-cover">
<h1 id="cover">Dismantling Neural Networks</h1>
<p class="book-subtitle">A neural network taken apart piece by piece, rebuilt by hand in NumPy,
and checked against PyTorch.</p>
<p class="book-meta">Built {date}, version {_html.escape(version)}.<br>
The same book, with every explorable, is online at {where}.<br>
Every code block ran and every printed output was checked when this book was built.
The exercises' solutions, folded on the site, are printed unfolded here, right under each exercise.</p>
</section>
<nav class="book-toc"><h1 id="contents">Contents</h1>{''.join(toc)}</nav>
{''.join(sections)}
</div></div>
</body></html>
"""
    return (mutate(doc) if mutate else doc), outline


def build_version():
    """``0.1.0+<commit>`` from pyproject's version and git (``GITHUB_SHA`` in the workflow)."""
    m = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    version = m[1] if m else "0"
    sha = os.environ.get("GITHUB_SHA", "")[:7]
    if not sha:
        try:
            sha = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            sha = ""
    return f"{version}+{sha}" if sha else version


# ---------------------------------------------------------------- print

FOOTER = ('<div style="font-size: 8pt; width: 100%; text-align: center; color: #555;">'
          '<span class="pageNumber"></span></div>')


def find_chromium(environ=os.environ):
    import shutil

    chosen = environ.get("CHROMIUM")
    if chosen:
        return shutil.which(chosen)
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


@dataclass
class Printed:
    path: Path
    seconds: float
    images: list = field(default_factory=list)  # (src, loaded) of every <img> in the book
    outline: list = field(default_factory=list)  # [(level, title, id)] as bookmarked


def pdf(site, out=None, browser=None, entries=None, mutate=None, **html_options):
    """Print the book of the built ``site`` to ``out`` (default: ``site/PDF_NAME``) with Chromium.

    ``browser`` is a Playwright browser (the suite's); without one, the installed Chromium is
    launched (never one Playwright downloads). Chromium writes a named destination for every
    id a link points at (the contents link every part, chapter and section), so the bookmarks
    are added afterwards from those (``add_outline``): an untagged PDF, a third of a tagged one's size.
    """
    site = Path(site)
    out = Path(out) if out else site / PDF_NAME
    start = time.perf_counter()
    doc, outline = book_html(site, entries, mutate=mutate, **html_options)
    scratch = site / BOOK_HTML
    scratch.write_text(doc, encoding="utf-8")
    try:
        if browser is None:
            from playwright.sync_api import sync_playwright

            executable = find_chromium()
            if not executable:
                raise SystemExit(f"no Chromium found ({', '.join(BROWSERS)}): make chromium, or set CHROMIUM")
            with sync_playwright() as playwright:
                launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
                try:
                    images = _print(launched, scratch, out)
                finally:
                    launched.close()
        else:
            images = _print(browser, scratch, out)
    finally:
        scratch.unlink(missing_ok=True)
    add_outline(out, outline)
    return Printed(out, time.perf_counter() - start, images, outline)


def add_outline(path, outline):
    """Bookmarks ``[(level, title, id)]`` to the named destinations Chromium wrote, in place."""
    from pypdf import PdfReader, PdfWriter

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # Chromium's trailer counts one object short: harmless
    reader = PdfReader(path)
    dests = reader.named_destinations
    writer = PdfWriter(clone_from=reader)
    parents = {}
    for level, title, ident in outline:
        dest = dests.get("/" + ident) or dests.get(ident)
        if dest is None:
            continue  # a heading no link points at has no destination: its bookmark would go nowhere
        page = reader.get_destination_page_number(dest)
        item = writer.add_outline_item(title, page, parent=parents.get(level - 1))
        parents[level] = item
    writer.page_mode = "/UseOutlines"
    with open(path, "wb") as handle:
        writer.write(handle)


def _print(browser, html_file, out):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(html_file.resolve().as_uri(), wait_until="load")
        page.evaluate("document.fonts.ready")
        images = page.evaluate("[...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
        page.pdf(path=str(out), format="A4", print_background=True,
                 display_header_footer=True, header_template="<span></span>", footer_template=FOOTER,
                 margin={"top": "16mm", "bottom": "18mm", "left": "16mm", "right": "16mm"})
        return images
    finally:
        context.close()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    site = Path(argv[0] if argv else "site")
    if not (site / "index.html").is_file():
        raise SystemExit(f"{site}/index.html not found: build the site first (make build)")
    printed = pdf(site)
    missing = [src for src, ok in printed.images if not ok]
    if missing:
        printed.path.unlink(missing_ok=True)
        raise SystemExit(f"book: figures that did not load: {', '.join(missing)}")
    size = printed.path.stat().st_size
    from pypdf import PdfReader

    pages = len(PdfReader(printed.path).pages)
    print(f"book: {printed.path} ({pages} pages, {size / 1e6:.1f} MB, {printed.seconds:.1f} s)")


if __name__ == "__main__":
    main()
