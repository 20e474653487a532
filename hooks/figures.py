"""Wide figures stay readable on a phone: they keep their size and scroll in their own box.

A figure whose SVG is wider than ``WIDE_PT`` (a dense diagram, say the backpropagation graph)
would shrink to a phone's 343 px column until its labels are unreadable. When such an image
is alone in its paragraph, the paragraph becomes ``<p class="figure-scroll" tabindex="0">``
(focusable: a scrollable region must be reachable by keyboard) and the image gets class
``figure-wide``; ``docs/assets/extra.css`` lets it scroll sideways below the tablet
breakpoint. Wider screens see no change.
"""

import posixpath
import re
from pathlib import Path

WIDE_PT = 600
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

    def mark(m):
        src = posixpath.normpath(posixpath.join(base, m["src"]))
        if _width_pt(Path(config["docs_dir"]) / src) <= WIDE_PT:
            return m[0]
        img = m[1].replace("<img ", '<img class="figure-wide" ', 1)
        return f'<p class="figure-scroll" tabindex="0">{img}</p>'

    return FIGURE.sub(mark, html)
