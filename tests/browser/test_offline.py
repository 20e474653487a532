"""The site from a folder (``src/sitekit/offline.py``): the zip, unzipped and opened with ``file://``.

The ``book`` fixture writes the zip into the suite's shared build (the home page and the footer
link it). Here it is unzipped and read as a reader without a network would: the home page, a
chapter through the nav, a search and its first result, an explorable moved by a click, the
palette toggle, and not one request that leaves the folder. A folder made without the link
rewriting, or without the worker shim, is caught.
"""

import zipfile

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from sitekit import book as booklib
from sitekit import offline


def folder_problems(page, index, query_page, *, wait_ms=15_000, explorables=True):
    """Every way the folder whose home is ``index`` (a Path) fails a reader from ``file://``
    (``explorables=False``: only the nav and the search)."""
    problems, requests = [], []
    folder_uri = index.parent.as_uri() + "/"
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.goto(index.as_uri())
    entries = booklib.book_entries()
    chapter = next(e for e in entries if e.part)
    page.locator(f'nav.md-nav--primary a[href^="{chapter.url}"]').first.click()
    page.wait_for_load_state()
    if chapter.title.split(":")[0] not in page.title():
        problems.append(f"the nav's link to {chapter.title!r} opened {page.url} ({page.title()!r})")
    # Search from the home page (Material runs it in a worker: the shim makes that possible from file://).
    page.goto(index.as_uri())
    page.keyboard.press("s")
    page.keyboard.type(query_page.title.split(":")[0])
    try:
        page.wait_for_selector(".md-search-result__item a", timeout=wait_ms)
        page.locator(".md-search-result__item a").first.click()
        page.wait_for_load_state()
        if query_page.title.split(":")[0] not in page.title():
            problems.append(f"the first result for {query_page.title!r} opened {page.url} ({page.title()!r})")
    except PlaywrightTimeout:  # the search never answered
        problems.append("search found nothing")
    if not explorables:
        return problems
    # An explorable moves; every one starts; the palette toggles.
    bowl = next((e for e in entries if (index.parent / e.url / "index.html").read_text(encoding="utf-8")
                 .count('data-explorable="bowl"')), None)
    page.goto((index.parent / bowl.url / "index.html").as_uri())
    box = page.locator('[data-explorable="bowl"]').first
    box.locator("svg").first.wait_for()
    before = box.inner_html()
    box.locator("svg").first.click(position={"x": 60, "y": 40})
    if box.inner_html() == before:
        problems.append(f"the explorable on {bowl.url} did not move on a click")
    for e in entries:  # every explorable starts (one that loads data needs the folder's copy of it)
        if 'class="explorable"' in (index.parent / e.url / "index.html").read_text(encoding="utf-8"):
            page.goto((index.parent / e.url / "index.html").as_uri())
            try:
                page.wait_for_function("[...document.querySelectorAll('.explorable')].every(e => !e.hidden)",
                                       timeout=wait_ms)
            except PlaywrightTimeout:
                problems.append(f"an explorable on {e.url} did not start")
    scheme = page.evaluate("document.body.dataset.mdColorScheme")
    page.locator("form[data-md-component=palette] label:visible").first.click()
    if page.evaluate("document.body.dataset.mdColorScheme") == scheme:
        problems.append("the palette toggle did nothing")
    problems += [f"request outside the folder: {url}" for url in requests
                 if not url.startswith((folder_uri, "data:", "blob:", "about:"))]
    return problems


def _unzip(zip_path, to):
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(to)
    return to / offline.FOLDER / "index.html"


def test_the_unzipped_site_works_from_file_urls(book, site, new_page, tmp_path):
    zip_path = site.root / offline.ZIP_NAME
    assert zip_path.is_file()
    index = _unzip(zip_path, tmp_path)
    assert (index.parent / booklib.PDF_NAME).is_file()  # the PDF travels with it
    last = booklib.book_entries()[-1]
    page = new_page(viewport={"width": 1280, "height": 900})
    assert folder_problems(page, index, last) == []


def test_a_folder_without_its_file_fixes_is_caught(site, new_page, tmp_path):
    last = booklib.book_entries()[-1]
    raw = tmp_path / "raw"
    offline.make_folder(site.root, raw, links=False, shim=False)
    problems = folder_problems(new_page(viewport={"width": 1280, "height": 900}), raw / "index.html", last,
                               wait_ms=3_000, explorables=False)
    assert any(p.startswith("the nav's link to") for p in problems), problems
    assert "search found nothing" in problems, problems
