"""The book: one PDF of the whole site (``src/sitekit/book.py``), printed by the suite's Chromium.

The ``book`` fixture (conftest) prints the suite's shared build once, into the site, where the
home page and the footer link it (so the link checker sees it as the deployed site has it).
What is expected comes from the nav and the built pages, never from the book's own HTML: every
part and chapter title a bookmark, in nav order; every figure of every chapter (its alt text, in
the tagged PDF), drawn as vectors; every explorable replaced by a link to its page; no formula
left as TeX; links between chapters inside the PDF; text on every page. A small book of two
chapters with a fault planted for each check shows each one caught.
"""

import base64
import html
import re
from dataclasses import dataclass

from sitekit import book as booklib

MB = 1e6
TEX = re.compile(r"\$\$|\$\\|\\(?:frac|sum|partial|cdot|mathbf|mathrm|left|right|sqrt|begin|hat|times|top)\b|<!--")
# A 1x1 PNG: a figure that became a raster image.
PNG = "data:image/png;base64," + base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082")).decode()


@dataclass
class Expected:
    """What the book must hold, read from the nav and the built pages (not from the book)."""

    outline: list  # [(part or None, title)] in nav order
    figures: dict  # src -> the longest text the figure's SVG draws (its labels are text, not paths)
    rasters: int  # images inside the figures' SVGs (a digit, a decision map): raster on the site too
    explorables: int
    site_url: str
    book_urls: list  # full site addresses of the book's pages: a link to one must stay inside the PDF


def _squash(text):
    return re.sub(r"\s+", "", text)


def expected(site_root, entries):
    home = (site_root / "index.html").read_text(encoding="utf-8")
    site_url = booklib._canonical_base(home)
    figures, rasters, explorables = {}, 0, 0
    for e in entries:
        page = (site_root / e.url / "index.html").read_text(encoding="utf-8")
        article = booklib.ARTICLE.search(page)[1]
        for src in re.findall(r'<img [^>]*src="([^"]+\.svg)"', article):
            svg = (site_root / e.url / src).resolve().read_text(encoding="utf-8")
            texts = [t for t in re.findall(r"<text\b[^>]*>([^<]+)</text>", svg)]
            figures[src.rsplit("/", 1)[-1]] = html.unescape(max(texts, key=len)) if texts else ""
            rasters += svg.count("<image")
        explorables += article.count('class="explorable"')
    return Expected([(e.part, e.title) for e in entries], figures, rasters, explorables, site_url,
                    [site_url + e.url for e in entries])


def _outline(reader):
    """``[(depth, title, page index)]`` of the PDF's bookmarks, depth first."""
    out = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                out.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return out


def _images(reader):
    """Raster images drawn on each page, as ``[(page number, name)]`` (figures must be vectors)."""
    out = []
    for number, page in enumerate(reader.pages, 1):
        seen, stack = set(), [page.get("/Resources")]
        while stack:
            res = stack.pop()
            res = res.get_object() if res is not None else None
            if not res or id(res) in seen:
                continue
            seen.add(id(res))
            for name, ref in (res.get("/XObject") or {}).items():
                obj = ref.get_object()
                if obj.get("/Subtype") == "/Image":
                    out.append((number, name))
                elif obj.get("/Subtype") == "/Form":
                    stack.append(obj.get("/Resources"))
    return out


def _texts(path):
    """Each page's text (pdfium: a fraction of a second for the whole book)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


NOTE = "An explorable runs here on the site"


def book_problems(path, exp):
    """Every way the PDF at ``path`` falls short of ``exp`` (an empty list when it does not)."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    problems = []
    texts = _texts(path)
    pages = len(texts)
    if not 2 + len(exp.outline) <= pages <= 60 * len(exp.outline):
        problems.append(f"{pages} pages for {len(exp.outline)} chapters")
    text = "\n".join(texts)
    blank = [i for i, t in enumerate(texts, 1) if len(t.strip()) < 20]
    if len(blank) > len({p for p, _ in exp.outline}):  # a part's title page is short
        problems.append(f"pages with no selectable text: {blank[:10]}")
    for number, page_text in enumerate(texts, 1):
        m = TEX.search(page_text)
        if m:
            problems.append(f"unrendered math or markup on page {number}: {page_text[max(0, m.start() - 40): m.end() + 40]!r}")
    # Bookmarks: every part and chapter title, in nav order, each chapter under its part.
    marks = _outline(reader)
    wanted, part = [], None
    for p, title in exp.outline:
        if p is not None and p != part:
            wanted.append((0, p))
            part = p
        wanted.append((0 if p is None else 1, title))
    got = [(depth, title) for depth, title, _ in marks if (depth, title) in wanted]
    if got != wanted:
        missing = [w for w in wanted if w not in got]
        problems.append(f"bookmarks not in nav order or missing: {missing or got}")
    for depth, title, page in marks:
        if (depth, title) in wanted and _squash(title) not in _squash(texts[page]):
            problems.append(f"the bookmark {title!r} lands on page {page + 1}, which does not show it")
    # Links: a link to a page of the book stays inside the PDF (only the cover and the
    # explorables' notes link to the site).
    internal = 0
    for number, page in enumerate(reader.pages):
        allowed = texts[number].count(NOTE) + (number == 0)
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            action = a.get("/A") or {}
            uri = str(action.get("/URI", ""))
            if uri and uri.split("#")[0] in exp.book_urls:
                allowed -= 1
                if allowed < 0:
                    problems.append(f"a link to a chapter of the book leaves the PDF: page {number + 1}: {uri}")
            elif "/Dest" in a or action.get("/S") == "/GoTo":
                internal += 1
    if internal < len(exp.outline):
        problems.append(f"only {internal} links inside the PDF for {len(exp.outline)} chapters")
    # Figures: every one of the site's (its longest label), as vectors; explorables replaced.
    flat = _squash(text)
    for name, label in exp.figures.items():
        if not label or _squash(label) not in flat:
            problems.append(f"figure missing from the book: {name} (its text {label!r} is not in the PDF)")
    images = _images(reader)
    if len(images) != exp.rasters:
        problems.append(f"{len(images)} raster images for the {exp.rasters} inside the figures' SVGs "
                        f"(figures must be vectors): {images[:6]}")
    notes = text.count(NOTE)
    if notes != exp.explorables:
        problems.append(f"{notes} explorable notes for {exp.explorables} explorables")
    return problems


# ---------------------------------------------------------------- the real book

def test_the_book_has_every_chapter_figure_and_formula_of_the_nav(book, site, report_book):
    exp = expected(site.root, booklib.book_entries())
    size = book.path.stat().st_size
    from pypdf import PdfReader

    pages = len(PdfReader(book.path).pages)
    report_book(f"{book.path.name}: {pages} pages, {size / MB:.1f} MB, printed in {book.seconds:.1f} s")
    assert size < 15 * MB, f"{size / MB:.1f} MB"
    assert [src for src, ok in book.images if not ok] == []
    assert len(exp.figures) >= 15 and exp.explorables >= 2  # the site has them: the checks have work
    assert book_problems(book.path, exp) == []


# ---------------------------------------------------------------- planted faults

def _plant(doc):
    """One fault per check, in a book of two chapters (gradient descent and linearity)."""
    first_fig = re.search(r'<img [^>]*src="figures/gradient-descent[^"]*\.svg"[^>]*>', doc)[0]
    doc = doc.replace(first_fig, "", 1)  # a missing figure
    doc = re.sub(r'src="figures/linearity-neuron\.svg"', f'src="{PNG}"', doc, count=1)  # a raster figure
    doc = doc.replace('<section class="book-chapter" id="ch-linearity">',
                      '<section class="book-chapter" id="ch-linearity"><p>Math that did not render: '
                      '$$\\frac{\\partial L}{\\partial w}$$</p>', 1)
    doc = re.sub(r'<div class="admonition book-explorable">.*?</div>', "", doc, count=1, flags=re.S)
    doc = re.sub(r'href="#linearity--([^"]+)"', r'href="{site}linearity/#\1"', doc, count=1)  # a link left to the site
    doc = doc.replace(' id="ch-gradient-descent"', "", 1)  # a chapter no link reaches: no bookmark
    return doc


def test_planted_faults_in_a_small_book_are_each_caught(browser, site, tmp_path):
    entries = [e for e in booklib.book_entries() if e.url in ("linearity/", "gradient-descent/")]
    assert len(entries) == 2
    exp = expected(site.root, entries)
    planted = booklib.pdf(site.root, tmp_path / "planted.pdf", browser=browser, entries=entries,
                          mutate=lambda doc: _plant(doc).replace("{site}", exp.site_url))
    problems = "\n".join(book_problems(planted.path, exp))
    assert "unrendered math or markup on page " in problems and "\\frac" in problems, problems
    assert "bookmarks not in nav order or missing: [(1, 'Gradient descent')]" in problems, problems
    assert "figure missing from the book: gradient-descent-paths.svg" in problems, problems
    assert "1 raster images for the 0 inside the figures' SVGs" in problems, problems
    assert f"0 explorable notes for {exp.explorables} explorables" in problems, problems
    assert "a link to a chapter of the book leaves the PDF: page" in problems, problems


# ---------------------------------------------------------------- one page printed from the browser

def _folded_text(page_html):
    """A sentence from inside the page's first folded box (a solution), without its markup."""
    for inner in re.findall(r"<details\b[^>]*>\s*<summary>.*?</summary>(.*?)</details>", page_html, re.S):
        for para in re.findall(r"<p>(.*?)</p>", inner, re.S):
            text = html.unescape(re.sub(r"<[^>]+>", "", para))
            if "katex" not in para and "claim" not in para and len(text) > 30:
                return text[:60]
    return None


def test_a_page_printed_from_the_browser_shows_its_article_without_the_screen_only_parts(new_page, site):
    """print.css: a chapter printed as a reader would (Ctrl+P): solutions open, no site chrome, and
    no explorable (its controls mean nothing on paper: the book replaces it with a link)."""
    chapters = [e for e in booklib.book_entries()
                if e.part and 'class="explorable"' in site.html(e.url) and _folded_text(site.html(e.url))]
    entry = min(chapters, key=lambda e: len(site.html(e.url)))  # the shortest: cheap to print
    folded = _folded_text(site.html(entry.url))
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(site.url(entry.url))
    page.wait_for_function("[...document.querySelectorAll('.explorable')].every(e => !e.hidden && e.innerText.trim())")
    lines = page.evaluate("document.querySelector('.explorable').innerText").splitlines()
    controls = [_squash(line) for line in lines if len(_squash(line)) >= 10]

    def printed():
        return _squash("".join(_texts_of(page.pdf(format="A4"))))

    text = printed()
    assert _squash(entry.title) in text
    assert _squash(folded) in text, f"the folded solution {folded!r} did not print"
    assert "Tableofcontents" not in text and "Skiptocontent" not in text, "the site's chrome printed"
    assert [c for c in controls if c in text] == [], "the explorable printed"
    # Planted: without the print stylesheet the explorable prints, and the check sees it.
    page.evaluate("document.querySelector('link[href$=\"print.css\"]').remove()")
    without = printed()
    assert [c for c in controls if c in without] != []


def _texts_of(data):
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()
