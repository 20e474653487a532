"""How large a figure's text really is on screen, in CSS pixels (the browser suite's figure check).

Every figure is an SVG shown as an ``<img>`` (inside a ``<picture>`` when it has a narrow
rendering for phones). An ``<img>`` hides its SVG's elements from the page, so for each
figure we fetch the file the browser actually chose (``currentSrc``), draw it inline in an
off-screen shadow root (isolated from the page's CSS) at exactly the size the ``<img>`` shows
it, and read each text element's computed font size times its screen transform's scale
(``getScreenCTM``): that is the size the reader sees, rotation and ``viewBox`` scaling
included. Subscripts and other ``<tspan>`` pieces count as text of their own.

A figure whose box scrolls sideways (a wide figure on a phone, ``sitekit.figures``) must show
a cue that it does: the box's right edge, scrolled to the start, must look different with the
box's own background (the scroll shadows of ``extra.css``) than without it, in pixels.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

MINIMUM_PX = 11.0

_MEASURE_JS = """async (img) => {
  const cs = getComputedStyle(img);
  const px = name => parseFloat(cs[name]) || 0;
  const r = img.getBoundingClientRect();
  const w = r.width - px('paddingLeft') - px('paddingRight') - px('borderLeftWidth') - px('borderRightWidth');
  const h = r.height - px('paddingTop') - px('paddingBottom') - px('borderTopWidth') - px('borderBottomWidth');
  const src = img.currentSrc || img.src;
  const text = await (await fetch(src)).text();
  const host = document.createElement('div');
  host.style.cssText = 'position: absolute; left: -20000px; top: 0; width: auto; height: auto;';
  document.body.appendChild(host);
  const root = host.attachShadow({mode: 'open'});
  root.innerHTML = text.replace(/^[\\s\\S]*?(?=<svg)/, '');
  const svg = root.querySelector('svg');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  const sizes = [];
  for (const t of svg.querySelectorAll('text, tspan')) {
    const own = [...t.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.nodeValue).join('').trim();
    if (!own || t.closest('defs')) continue;
    const m = t.getScreenCTM();
    const scale = Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    sizes.push([parseFloat(getComputedStyle(t).fontSize) * scale, (t.closest('text') || t).textContent.trim()]);
  }
  host.remove();
  return {src: new URL(src).pathname, shown: w, sizes};
}"""
_SCROLL_BOX_JS = """img => {
  for (let a = img.parentElement; a && a !== document.body; a = a.parentElement) {
    if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX)) {
      return a.scrollWidth > a.clientWidth + 1 ? a : null;
    }
  }
  return null;
}"""

_OPEN_DETAILS = """img => { const opened = [];
  for (let d = img.closest('details:not([open])'); d; d = d.parentElement.closest('details:not([open])')) {
    d.open = true; opened.push(d);
  }
  window.__figtextOpened = opened; }"""
_CLOSE_DETAILS = "() => { for (const d of window.__figtextOpened || []) d.open = false; }"


@dataclass
class FigureText:
    """One figure as shown at one viewport: its file, shown width, smallest text and scrolling."""

    src: str
    shown_px: float
    smallest_px: float
    smallest_text: str
    count: int
    scrolls: bool
    cue: bool

    @property
    def name(self):
        return self.src.rsplit("/", 1)[-1]


def measure(page):
    """``FigureText`` of every SVG figure in the page's content, closed exercises opened for it."""
    out = []
    for img in page.locator(".md-content img[src$='.svg']").all():
        img.evaluate(_OPEN_DETAILS)
        try:
            if not img.is_visible():  # an inactive tab: not on screen
                continue
            img.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r, {once: true}))")
            seen = img.evaluate(_MEASURE_JS)
            box = img.evaluate_handle(_SCROLL_BOX_JS).as_element()
            cue = box is not None and _cue_visible(page, box)
        finally:
            page.evaluate(_CLOSE_DETAILS)
        px, text = min(seen["sizes"], default=(float("inf"), ""))
        out.append(FigureText(seen["src"], seen["shown"], px, text, len(seen["sizes"]), box is not None, cue))
    return out


def _cue_visible(page, box, strip=10, threshold=3.0):
    """Does the right edge of a scrolling ``box`` (at its start) show its background's shadow?

    Screenshots a ``strip``-px band at the box's right edge as the reader sees it, then with the
    box's background switched off; a mean difference of ``threshold`` levels (of 255) or more is
    a visible cue.
    """
    box.evaluate("b => { b.scrollLeft = 0; }")
    box.scroll_into_view_if_needed()
    r = box.bounding_box()
    clip = {"x": r["x"] + r["width"] - strip - 1, "y": r["y"], "width": strip, "height": r["height"]}
    shown = page.screenshot(clip=clip)
    box.evaluate("b => { b.dataset.figtextStyle = b.getAttribute('style') || '';"
                 " b.style.setProperty('background', 'none', 'important'); }")
    bare = page.screenshot(clip=clip)
    box.evaluate("b => { b.setAttribute('style', b.dataset.figtextStyle); delete b.dataset.figtextStyle; }")
    a, b = (np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float) for png in (shown, bare))
    return float(np.abs(a - b).mean()) >= threshold


def problems(figures, minimum=MINIMUM_PX):
    """Figures whose smallest text is under ``minimum`` CSS px, or that scroll without a cue."""
    found = []
    for f in figures:
        if f.smallest_px < minimum:
            found.append(f"{f.name}: text {f.smallest_text[:40]!r} renders at {f.smallest_px:.1f}px "
                         f"< {minimum:g}px (figure shown {f.shown_px:.0f}px wide)")
        if f.scrolls and not f.cue:
            found.append(f"{f.name}: scrolls sideways with no visible cue")
    return found
