"""What a reader's browser must see, as functions that return a list of problems (empty = fine).

The real-site tests (``test_pages.py``, ``test_interaction.py``) and the planted-failure tests
(``test_planted.py``) call the same functions, so a planted fault proves the check that guards
the real pages can see it.
"""

import io
import os
import re
import shutil
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")  # the Makefile's `chromium` target, same order
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 375, "height": 740}
KINDS = ("html", "css", "js", "fonts", "images", "data")


def find_chromium(environ=os.environ):
    """``(executable, None)``, or ``(None, why not)``: ``$CHROMIUM`` if set, else the first of ``BROWSERS``."""
    chosen = environ.get("CHROMIUM")
    if chosen:
        found = shutil.which(chosen, path=environ.get("PATH"))
        return (found, None) if found else (None, f"CHROMIUM={chosen} is not an executable")
    for name in BROWSERS:
        found = shutil.which(name, path=environ.get("PATH"))
        if found:
            return found, None
    return None, f"no Chromium found ({', '.join(BROWSERS)}): make chromium, or set CHROMIUM=/path/to/it"


# ---------------------------------------------------------------- formulas in the page source

class _ArithmatexCounter(HTMLParser):
    def __init__(self):
        super().__init__()
        self.count = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        self.count += tag in ("span", "div") and "arithmatex" in classes


def source_formula_count(raw_html):
    """How many formulas pymdownx.arithmatex found in a page's source.

    ``raw_html`` is the page built with the same ``mkdocs.yml`` but without the KaTeX extension
    (``conftest.TYPESETTERS``). Arithmatex itself (not a regex of ours) decides what a formula is, in the
    Markdown pages and in the docstrings mkdocstrings renders, and wraps each one in a
    ``span``/``div`` of class ``arithmatex``. Counting those wrappers is therefore the count
    of formulas the author wrote, independent of the extension whose output the browser checks.
    Text that arithmatex does not see as a formula (say ``$$`` inside raw HTML) is not
    counted here; ``math_problems`` catches it in the visible text instead.
    """
    parser = _ArithmatexCounter()
    parser.feed(raw_html)
    return parser.count


# ---------------------------------------------------------------- one page load, recorded

@dataclass
class Visit:
    """Everything the network and the console said while one page loaded."""

    url: str
    origin: str
    status: int | None = None
    console_errors: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    finished: list = field(default_factory=list)
    aborted: list = field(default_factory=list)

    def settle(self, page, quiet_ms=200, timeout_ms=10_000):
        """Wait until no request is in flight and none started for ``quiet_ms``."""
        seen, still, waited = -1, 0, 0
        while waited < timeout_ms:
            count = len(self.requests)
            idle = count == len(self.finished) + len(self.aborted)
            still = still + 25 if (idle and count == seen) else 0
            if still >= quiet_ms:
                return
            seen = count
            page.wait_for_timeout(25)
            waited += 25
        raise TimeoutError(f"{self.url}: requests still in flight after {timeout_ms} ms")

    def weights(self):
        """Transferred bytes (headers + body as sent) by kind, and the decoded total."""
        out = dict.fromkeys(KINDS, 0)
        decoded = 0
        for request in self.finished:
            sizes = request.sizes()
            response = request.response()
            out[_kind(request, response)] += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            decoded += len(response.body()) if response else 0
        out["total"] = sum(out[k] for k in KINDS)
        out["decoded"] = decoded
        return out


def _kind(request, response):
    by_type = {"document": "html", "stylesheet": "css", "script": "js", "font": "fonts", "image": "images"}
    if request.resource_type in by_type:
        return by_type[request.resource_type]
    ctype = (response.headers.get("content-type", "") if response else "")
    for needle, kind in (("html", "html"), ("css", "css"), ("javascript", "js"), ("font", "fonts"), ("image", "images")):
        if needle in ctype:
            return kind
    return "data"


def watch(page, url, origin):
    """Record console errors, failures and every request of ``page`` (workers included).

    Requests to any other host are aborted (and recorded): the suite never touches the
    network, and a page that needs a CDN shows it as a third-party request and a failure.
    """
    visit = Visit(url=url, origin=origin)
    context = page.context
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
    page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
    context.on("request", lambda r: visit.requests.append(r.url))
    context.on("requestfinished", lambda r: visit.finished.append(r))
    context.on("requestfailed", lambda r: visit.failed.append(f"{r.url} ({r.failure})") or visit.aborted.append(r))
    context.on("response", lambda r: r.status >= 400 and visit.failed.append(f"{r.url} (HTTP {r.status})"))
    context.route(lambda u: not _same_origin(u, origin), lambda route: route.abort("blockedbyclient"))
    return visit


def _same_origin(url, origin):
    if url.startswith(("data:", "blob:", "about:")):
        return True
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" == origin.rstrip("/")


def load(page, url, origin):
    """Open ``url`` in a page created in a fresh context; wait until fonts and network settle."""
    visit = watch(page, url, origin)
    response = page.goto(url, wait_until="load")
    visit.status = response.status if response else None
    page.evaluate("document.fonts.ready.then(() => true)")
    visit.settle(page)
    return visit


def view_as(page, viewport, scheme):
    """Re-view the open page at ``viewport`` in the ``"light"``/``"dark"`` scheme, and wait for it."""
    page.set_viewport_size(viewport)
    want = "slate" if scheme == "dark" else "default"
    if page.evaluate("document.body.dataset.mdColorScheme") != want:
        toggle_palette(page)
    page.wait_for_function(f"document.body.dataset.mdColorScheme === '{want}'")
    page.evaluate("window.scrollTo(0, 0)")  # full-page screenshots start at the top, header included
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    # a <picture> picks its phone rendering on a narrow viewport (sitekit.figures): let it arrive
    # before anything else happens, or a later step (a full-page screenshot) may cancel the request
    page.evaluate("""Promise.all([...document.images].filter(i => !i.complete && i.loading !== 'lazy')
                     .map(i => new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })))""")


def load_problems(visit):
    problems = []
    if visit.status != 200:
        problems.append(f"HTTP {visit.status} for {visit.url}")
    problems += [f"console error: {e}" for e in visit.console_errors]
    # net::ERR_ABORTED is the page cancelling its own request (a <picture> switching to another
    # rendering when the viewport changes), not a failure; a missing file is an HTTP 404 here.
    problems += [f"failed request: {f}" for f in visit.failed if not f.endswith("(net::ERR_ABORTED)")]
    return problems


def third_party_requests(visit):
    return [u for u in visit.requests if not _same_origin(u, visit.origin)]


# ---------------------------------------------------------------- math

_MATH_JS = r"""() => {
  const all = [...document.querySelectorAll('.katex')];
  const top = all.filter(e => !e.parentElement.closest('.katex'));
  const font = top.length ? getComputedStyle(top[0]).fontFamily : '';
  const skip = 'pre, code, script, style, textarea, .katex';
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement && !n.parentElement.closest(skip)) texts.push(n.nodeValue);
  }
  const stray = [];
  for (const k of top) {
    let box = k.closest('.katex-display') || k;
    if (box.parentElement.classList.contains('math')) box = box.parentElement;
    const text = node => (node && node.nodeType === Node.TEXT_NODE ? node.nodeValue : '');
    const before = text(box.previousSibling), after = text(box.nextSibling);
    if (/\$\s*$/.test(before) || /^\s*\$/.test(after)) {
      stray.push(`${before.slice(-20)}⟨formula⟩${after.slice(0, 20)}`);
    }
  }
  return {rendered: top.length, errors: document.querySelectorAll('.katex-error').length,
          font, stray, text: texts.join(' ')};
}"""
RAW_MATH = [
    (re.compile(r"\\\(|\\\)"), r"raw \( \) delimiters"),
    (re.compile(r"\\\[|\\\]"), r"raw \[ \] delimiters"),
    (re.compile(r"\$\$"), "raw $$ delimiters"),
    (re.compile(r"\$[^\s$][^$\n]{0,80}?[\\^_{}][^$\n]{0,80}?\$"), "a $…$ formula left as text"),
    (re.compile(r"\\(?:frac|partial|sum|sigma|cdot|mathbf|left|right|begin|sqrt|hat|top)\b"), "a TeX command in the text"),
]


def math_problems(page, expected):
    """Every formula of the source is typeset by KaTeX, and no TeX shows as text.

    ``expected`` is ``source_formula_count`` of the page. Top-level ``.katex`` elements are
    counted (a display formula is ``.katex-display > .katex``, one per formula). The text of
    every element except code and KaTeX's own output is searched for leftover delimiters and
    TeX commands, including text in closed exercises and inactive tabs a reader can open.
    """
    seen = page.evaluate(_MATH_JS)
    problems = []
    if seen["rendered"] != expected:
        problems.append(f"{seen['rendered']} KaTeX formulas rendered, {expected} in the source")
    if seen["errors"]:
        problems.append(f"{seen['errors']} KaTeX error boxes")
    if seen["rendered"] and "KaTeX_Main" not in seen["font"]:
        problems.append(f"KaTeX stylesheet not applied (font-family {seen['font']!r})")
    problems += [f"a stray $ next to a formula: {s}" for s in seen["stray"][:3]]
    return problems + raw_tex(seen["text"])


def raw_tex(text):
    """Leftover TeX in text a reader sees: delimiters, ``$…$`` with TeX inside, TeX commands."""
    problems = []
    for pattern, what in RAW_MATH:
        for m in list(pattern.finditer(text))[:3]:
            context = text[max(m.start() - 30, 0):m.end() + 30].replace("\n", " ")
            problems.append(f"{what}: …{context}…")
    return problems


# ---------------------------------------------------------------- layout

_OVERFLOW_JS = """() => {
  const vw = window.innerWidth;
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const clipped = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    [...el.classList].slice(0, 2).map(c => '.' + c).join('');
  const wide = [...document.querySelectorAll('body *')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > vw + 1 && !clipped(el);
  }).slice(0, 5).map(el => `${name(el)} reaches ${Math.round(el.getBoundingClientRect().right)}px`);
  const boxes = [...document.querySelectorAll('.md-typeset .katex-display, .md-typeset table')].map(el => {
    const boxes = [];
    for (let a = el; a && a !== document.body; a = a.parentElement) if (scrolls(a)) boxes.push(a);
    const own = boxes.length > 0;
    const fits = boxes.some(b => b.getBoundingClientRect().right <= vw + 1);
    const wider = el.scrollWidth > el.parentElement.clientWidth;
    return {el: name(el), own, fits, wider};
  });
  return {vw, scroll: document.documentElement.scrollWidth, wide, boxes};
}"""


def overflow_problems(page):
    """At the current viewport the page does not scroll sideways; wide math and tables scroll in a box.

    Reports the page's ``scrollWidth`` against ``innerWidth`` with the first elements that
    stick out, and any display formula or table that is wider than its column without a
    scrolling box of its own inside the viewport.
    """
    seen = page.evaluate(_OVERFLOW_JS)
    problems = []
    if seen["scroll"] > seen["vw"]:
        problems.append(f"page scrolls sideways: {seen['scroll']}px wide in a {seen['vw']}px viewport; "
                        + ", ".join(seen["wide"]))
    for box in seen["boxes"]:
        if not box["own"] and box["wider"]:
            problems.append(f"{box['el']} is wider than its column and has no scrolling box")
        elif box["own"] and not box["fits"]:
            problems.append(f"{box['el']}'s scrolling box sticks out of the viewport")
    return problems


# ---------------------------------------------------------------- accessibility

COLOUR_RULES = ["color-contrast", "link-in-text-block"]


def axe_violations(page, impacts=("serious", "critical"), colours_only=False):
    """Run axe-core (the pinned npm package, injected inline: no request) on the page.

    No rule is disabled. ``colours_only`` runs just the rules a colour scheme can change
    (``COLOUR_RULES``), for the second scheme of a page whose structure was already checked.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    options = {"resultTypes": ["violations"]}
    if colours_only:
        options["runOnly"] = {"type": "rule", "values": COLOUR_RULES}
    found = page.evaluate("""async (options) => {
      const r = await axe.run(document, options);
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ': ' + (n.any[0] || n.all[0] || {message: ''}).message)}));
    }""", options)
    return [v for v in found if v["impact"] in impacts]


# ---------------------------------------------------------------- figures

def _luminance(rgb):
    c = rgb / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def figure_contrast(png):
    """WCAG contrast ratio between a picture's background and its ink, from its pixels.

    The background is the most common colour; the ink is the 0.5 % of pixels farthest from it
    in luminance. Black lines on a black background give about 1.
    """
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float).reshape(-1, 3)
    lum = _luminance(rgb)
    values, counts = np.unique(np.round(lum, 3), return_counts=True)
    bg = values[counts.argmax()]
    far = np.sort(np.abs(lum - bg))[-max(len(lum) // 200, 1):]
    ink = bg + far.mean() if (lum > bg).sum() > (lum < bg).sum() else bg - far.mean()
    hi, lo = max(bg, ink), min(bg, ink)
    return (hi + 0.05) / (lo + 0.05)


_OPEN_DETAILS = """img => { const opened = [];
  for (let d = img.closest('details:not([open])'); d; d = d.parentElement.closest('details:not([open])')) {
    d.open = true; opened.push(d);
  }
  window.__openedDetails = opened; return opened.length; }"""
_CLOSE_DETAILS = "(img, n) => { for (const d of window.__openedDetails || []) d.open = false; }"


def figure_problems(page, minimum=3.0):
    """Every SVG figure in the content shows its ink with at least WCAG's 3:1 graphics contrast."""
    problems = []
    for img in page.locator(".md-content img[src$='.svg']").all():
        opened = img.evaluate(_OPEN_DETAILS)  # a figure in a closed exercise is looked at too
        if not img.is_visible():  # in an inactive tab: not on screen, so not looked at
            img.evaluate(_CLOSE_DETAILS, opened)
            continue
        img.scroll_into_view_if_needed()
        ratio = figure_contrast(img.screenshot())
        img.evaluate(_CLOSE_DETAILS, opened)
        if ratio < minimum:
            problems.append(f"{img.get_attribute('src')}: contrast {ratio:.1f}:1 < {minimum}:1")
    return problems


# ---------------------------------------------------------------- what a reader does

def navigate_instantly(page, visit, url, title):
    """Click the sidebar link to ``url`` and wait for Material's instant navigation to swap it in.

    Returns problems: a full page load instead of an in-page swap, or no link to click.
    """
    page.evaluate("window.__noReloadMarker = true")
    link = page.evaluate_handle(
        "url => [...document.querySelectorAll('.md-sidebar--primary a.md-nav__link')].find(a => a.href === url)"
        " || null", url).as_element()
    if link is None:
        return [f"no sidebar link to {url}"]
    link.click()
    page.wait_for_function("([url, title]) => location.href === url && document.title === title", arg=[url, title])
    visit.settle(page)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    if not page.evaluate("window.__noReloadMarker === true"):
        return [f"{url} was reached by a full page load, not instant navigation"]
    return []


TAB_LABELS = ["Math", "NumPy", "PyTorch"]
_TABS_JS = """(labels) => [...document.querySelectorAll('.tabbed-set')].map(set => ({
    labels: [...set.querySelectorAll(':scope > .tabbed-labels > label')].map(l => l.textContent.trim()),
    checked: [...set.querySelectorAll(':scope > input')].map(i => i.checked),
    shown: [...set.querySelectorAll(':scope > .tabbed-content > .tabbed-block')]
           .map(b => getComputedStyle(b).display !== 'none'),
  })).filter(s => JSON.stringify(s.labels) === JSON.stringify(labels))"""


def tab_sets(page):
    """The page's "Math | NumPy | PyTorch" tab sets: labels, which input is checked, which block shows."""
    return page.evaluate(_TABS_JS, TAB_LABELS)


def choose_tab(page, label):
    """Click ``label`` in the first "Math | NumPy | PyTorch" set of the page."""
    index = TAB_LABELS.index(label) + 1
    page.locator(".tabbed-set").filter(has=page.locator(f".tabbed-labels > label:nth-child({index})",
                                                        has_text=label)).first.locator(
        f":scope > .tabbed-labels > label:nth-child({index})").click()


def tab_problems(page, label, patience_ms=2000):
    """Every "Math | NumPy | PyTorch" set on the page shows ``label``'s block, and only it.

    Material applies a remembered choice just after the page loads, so this looks again for up
    to ``patience_ms`` before it reports.
    """
    want = [name == label for name in TAB_LABELS]
    for waited in range(0, patience_ms + 1, 100):
        sets = tab_sets(page)
        problems = [f"tab set {i}: checked {s['checked']}, shown {s['shown']}, want {label}"
                    for i, s in enumerate(sets) if s["checked"] != want or s["shown"] != want]
        if sets and not problems:
            return []
        if waited < patience_ms:
            page.wait_for_timeout(100)
    return problems or ["no Math | NumPy | PyTorch tabs on the page"]


def copy_problems(page):
    """Click the first code block's copy button; the clipboard must hold that block's text."""
    button = page.locator(".md-content button[data-clipboard-target]").first
    target = button.get_attribute("data-clipboard-target")
    shown = page.locator(target).inner_text()
    page.evaluate("navigator.clipboard.writeText('(nothing copied)')")
    page.locator(target).hover()
    button.click()
    page.locator(".md-dialog--active").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    if copied.rstrip("\n") != shown.rstrip("\n") or not copied.strip():
        return [f"copied {copied[:80]!r}, the block shows {shown[:80]!r}"]
    return []


def toggle_palette(page):
    """Click the header's palette toggle; return the colour scheme ``body`` has afterwards."""
    before = page.evaluate("document.body.dataset.mdColorScheme")
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function("before => document.body.dataset.mdColorScheme !== before", arg=before)
    return page.evaluate("document.body.dataset.mdColorScheme")


def search(page, query):
    """Type ``query`` in the search box; return the result links' paths and the results' text."""
    page.locator(".md-search__input").click()
    page.keyboard.type(query)
    page.locator(".md-search-result__item").first.wait_for()
    hrefs = page.eval_on_selector_all(".md-search-result__link", "links => links.map(a => a.href)")
    text = page.eval_on_selector(".md-search-result", "el => el.textContent")
    return [urlsplit(h).path for h in hrefs], text


# ---------------------------------------------------------------- code blocks and the notebook action

_SCROLLING_JS = """() => {
  const opened = [...document.querySelectorAll('details:not([open])')];
  opened.forEach(d => { d.open = true; });
  const found = [...document.querySelectorAll('.md-content .language-python pre > code')]
    .filter(code => code.offsetParent !== null && code.scrollWidth > code.clientWidth + 1)
    .map(code => {
      const longest = code.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '');
      return `${longest.length} characters: ${longest.trim().slice(0, 60)}`;
    });
  opened.forEach(d => { d.open = false; });
  return found;
}"""


def scrolling_code(page):
    """Every visible Python code block of the open page that scrolls sideways, by its longest line
    (tests/browser/test_code_width.py)."""
    return page.evaluate(_SCROLLING_JS)


NOTEBOOK_ACTION = "Download notebook"  # the chapter's action by its title (overrides/main.html)


def download_action(page):
    """What the open page's "Download notebook" action does for a reader who reaches it with the
    keyboard: ``{"count": links named NOTEBOOK_ACTION}``, and with exactly one, whether it is ``visible``,
    ``beside`` the title, its focused ``label`` and ``tab_index``, and the download's ``filename``,
    ``url`` and ``text``. Focus is given back afterwards (``conftest._survey`` calls it, last in its
    desktop view, so the page's one load serves tests/browser/test_notebooks.py too)."""
    action = page.get_by_role("link", name=NOTEBOOK_ACTION, exact=True)
    seen = {"count": action.count()}
    if seen["count"] != 1:
        return seen
    seen["visible"] = action.is_visible()
    title, box = page.locator("article h1").first.bounding_box(), action.bounding_box()
    seen["beside"] = abs(box["y"] - title["y"]) < title["height"]
    action.focus()
    seen["label"] = page.evaluate("document.activeElement.getAttribute('aria-label')")
    seen["tab_index"] = page.evaluate("document.activeElement.tabIndex")
    with page.expect_download() as download:
        page.keyboard.press("Enter")  # from the keyboard, as a reader without a mouse would
    seen["filename"], seen["url"] = download.value.suggested_filename, download.value.url
    with open(download.value.path(), encoding="utf-8") as handle:
        seen["text"] = handle.read()
    page.evaluate("document.activeElement.blur()")
    return seen


# ---------------------------------------------------------------- a project site under a sub-path

_NOT_FOUND_JS = """() => {
  const sheets = [...document.styleSheets].map(s => {
    try { return {href: s.href, rules: s.cssRules.length}; } catch (e) { return {href: s.href, rules: -1}; }
  });
  const links = document.querySelectorAll('link[rel=stylesheet]').length;
  const header = document.querySelector('.md-header');
  return {sheets, links, header: header ? getComputedStyle(header).position : null,
          hrefs: [...document.querySelectorAll('a[href]')].map(a => a.href)};
}"""


def not_found_problems(page, visit, home):
    """The page at a missing URL is the site's 404: status 404, styled, and it links to ``home``.

    Styled: every stylesheet the page names loaded with rules in it, and Material's CSS is in
    force (its header is ``position: sticky``). The missing page itself is the one failed
    request allowed (and Chromium's console line for it).
    """
    problems = [] if visit.status == 404 else [f"HTTP {visit.status} for a missing page (want 404)"]
    problems += [f"failed request: {f}" for f in visit.failed if not f.startswith(visit.url + " ")]
    problems += [f"console error: {e}" for e in visit.console_errors
                 if "the server responded with a status of 404" not in e]
    seen = page.evaluate(_NOT_FOUND_JS)
    empty = [s["href"] for s in seen["sheets"] if s["rules"] <= 0]
    if len(seen["sheets"]) < seen["links"] or empty:
        problems.append(f"stylesheets not loaded: {seen['links']} named, {len(seen['sheets'])} loaded, empty {empty}")
    if seen["header"] != "sticky":
        problems.append(f"Material's stylesheet not applied (header position {seen['header']!r})")
    if home not in seen["hrefs"]:
        problems.append(f"no link to {home} (links: {seen['hrefs'][:6]})")
    return problems


class _Refs(HTMLParser):
    """Every URL a page refers to (``href``/``src`` of any tag) and every ``id`` it defines."""

    def __init__(self):
        super().__init__()
        self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src"):
            if attrs.get(name):
                self.refs.append((tag, attrs[name]))
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])


@dataclass
class LinkReport:
    """What ``link_report`` found: counts, and the problems (empty lists = fine)."""

    pages: int = 0
    references: int = 0
    internal: int = 0
    anchors: int = 0
    external: set = field(default_factory=set)
    broken: list = field(default_factory=list)
    escaping: list = field(default_factory=list)

    def summary(self):
        return (f"{self.pages} pages, {self.references} references: {self.internal} to the site "
                f"({self.anchors} with an anchor), {len(self.external)} distinct external addresses "
                f"(not fetched); {len(self.broken)} broken, {len(self.escaping)} escape the sub-path")


NOT_FOUND_AT = "no/such/page/at/depth/"  # where link_report pretends 404.html was requested


def link_report(root, site_url):
    """Resolve every reference of every built page as a browser at ``site_url`` would, and check it.

    Each ``.html`` file is read at its served address (``404.html`` at a missing deep address,
    as GitHub Pages serves it anywhere); each ``href``/``src`` and each CSS ``url(...)`` is
    resolved against it. A reference to this host must stay under ``site_url``'s path
    (``escaping``) and name a file the build wrote, and its ``#anchor`` an ``id`` on that page
    (``broken``). Other hosts are counted, never fetched. ``sitemap.xml``'s addresses are
    checked the same way.
    """
    root, base = Path(root), urlsplit(site_url)
    report, ids, refs = LinkReport(), {}, []
    for file in sorted(root.rglob("*.html")):
        rel = file.relative_to(root).as_posix()
        if rel == "404.html":
            where = site_url + NOT_FOUND_AT
        else:
            where = site_url + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
        parser = _Refs()
        parser.feed(file.read_text(encoding="utf-8"))
        ids[rel] = parser.ids
        refs += [(rel, where, value) for _, value in parser.refs]
        report.pages += 1
    for file in sorted(root.rglob("*.css")):
        rel = file.relative_to(root).as_posix()
        refs += [(rel, site_url + rel, v) for v in re.findall(r"url\(\s*['\"]?([^'\")]+)", file.read_text("utf-8"))]
    sitemap = root / "sitemap.xml"
    if sitemap.is_file():
        refs += [("sitemap.xml", site_url + "sitemap.xml", v) for v in re.findall(r"<loc>(.*?)</loc>", sitemap.read_text())]
    for source, where, value in refs:
        report.references += 1
        if value.startswith(("mailto:", "javascript:", "data:", "blob:")):
            continue
        if value.startswith("#"):  # this page (wherever it is served), an anchor on it
            report.internal += 1
            report.anchors += 1
            if source in ids and value[1:] and unquote(value[1:]) not in ids[source]:
                report.broken.append(f"{source}: {value} -> no such id on the page")
            continue
        target = urlsplit(urljoin(where, value))
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            report.external.add(target.geturl())
            continue
        report.internal += 1
        if not target.path.startswith(base.path):
            report.escaping.append(f"{source}: {value} -> {target.path}")
            continue
        rel = unquote(target.path[len(base.path):])
        file = root / rel
        if rel == "" or rel.endswith("/"):
            file, rel = file / "index.html", rel + "index.html"
        if not file.is_file():
            report.broken.append(f"{source}: {value} -> {target.path} (no such file)")
        elif target.fragment:
            report.anchors += 1
            if rel in ids and unquote(target.fragment) not in ids[rel]:
                report.broken.append(f"{source}: {value} -> no id {target.fragment!r} on {rel}")
    return report
