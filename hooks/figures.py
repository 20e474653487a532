"""Figures stay readable on a phone: a narrow rendering where there is one, else their own scroll box.

* A figure ``docs/figures/name.svg`` with a phone rendering ``name.narrow.svg`` next to it
  (drawn by the same script from the same data, ``scripts/figstyle.py``) becomes
  ``<picture><source media="(max-width: 44.9375em)" srcset="…name.narrow.svg"><img …></picture>``:
  below Material's tablet breakpoint the browser downloads and shows the narrow one only, with
  the same ``alt`` text. The Markdown keeps its plain ``![alt](figures/name.svg)``.
* A figure with no narrow rendering whose SVG is wider than ``WIDE_PT`` (a phone's 327 px
  column) would shrink on a phone until its labels are unreadable. When such an image is alone in its
  paragraph, the paragraph becomes ``<p class="figure-scroll" tabindex="0">`` (focusable: a
  scrollable region must be reachable by keyboard) and the image gets class ``figure-wide``;
  ``docs/assets/extra.css`` shows it at its natural size below the tablet breakpoint, scrolling
  sideways with a shadow on the side where it continues. Wider screens see no change.
"""

import posixpath
import re
from pathlib import Path

WIDE_PT = 250  # points: 333 CSS px
PHONE = "(max-width: 44.9375em)"  # Material's breakpoint below which the sidebar hides
FIGURE = re.compile(r'<p>(<img [^>]*src="(?P<src>[^"]+\.svg)"[^>]*>)</p>')
WIDTH = re.compile(r'<svg[^>]*\swidth="(?P<value>[\d.]+)(?P<unit>pt|px)?"')


def _width_pt(path):
    head = path.read_text(encoding="utf-8", errors="replace")[:4000] if path.is_file() else ""
    m = WIDTH.search(head)
    if not m:
        return 0.0
    return float(m["value"]) * (0.75 if m["unit"] in (None, "px") else 1.0)


def on_page_content(html, page, config, **kwargs):
    base = page.url if page.url.endswith("/") else posixpath.dirname(page.url)
    docs = Path(config["docs_dir"])

    def mark(m):
        src = posixpath.normpath(posixpath.join(base, m["src"]))
        narrow = m["src"][: -len(".svg")] + ".narrow.svg"
        if (docs / posixpath.normpath(posixpath.join(base, narrow))).is_file():
            return f'<p><picture><source media="{PHONE}" srcset="{narrow}">{m[1]}</picture></p>'
        if _width_pt(docs / src) <= WIDE_PT:
            return m[0]
        img = m[1].replace("<img ", '<img class="figure-wide" ', 1)
        return f'<p class="figure-scroll" tabindex="0">{img}</p>'

    return FIGURE.sub(mark, html)
