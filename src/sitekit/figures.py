"""Figures stay readable on a phone: a narrow rendering where there is one, else their own scroll box.

A Python-Markdown extension (``sitekit.figures`` in ``mkdocs.yml``): a treeprocessor, so MkDocs
and Zensical both run it. It looks at every image of an SVG alone in its paragraph:

* A figure ``docs/figures/name.svg`` with a phone rendering ``name.narrow.svg`` next to it
  (drawn by the same script from the same data, ``scripts/figstyle.py``) becomes
  ``<picture><source media="(max-width: 44.9375em)" srcset="…name.narrow.svg"><img …></picture>``:
  below Material's tablet breakpoint the browser downloads and shows the narrow one only, with
  the same ``alt`` text. The Markdown keeps its plain ``![alt](figures/name.svg)``.
* A figure with no narrow rendering whose SVG is wider than ``WIDE_PT`` (a phone's 327 px
  column) would shrink on a phone until its labels are unreadable. The paragraph becomes
  ``<p class="figure-scroll" tabindex="0">`` (focusable: a scrollable region must be reachable
  by keyboard) and the image gets class ``figure-wide``; ``docs/assets/extra.css`` shows it at
  its natural size below the tablet breakpoint, scrolling sideways with a shadow on the side
  where it continues. Wider screens see no change.

It runs after ``attr_list`` (8) and before MkDocs rewrites links (its ``relpath``
treeprocessor, 0): the image's ``src`` is still the Markdown's own path, which the generator
goes on to rewrite. MkDocs leaves ``srcset`` alone, so for MkDocs it is written here as MkDocs
writes ``src``: relative to the page's URL. Zensical (0.0.73) rewrites links in the finished
HTML, ``srcset`` as well as ``src``, so for Zensical it is written as the Markdown writes ``src``.
"""

import html
import posixpath
import re
import xml.etree.ElementTree as etree

from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from sitekit import pages

WIDE_PT = 250  # points: 333 CSS px
PHONE = "(max-width: 44.9375em)"  # Material's breakpoint below which the sidebar hides
WIDTH = re.compile(r'<svg[^>]*\swidth="(?P<value>[\d.]+)(?P<unit>pt|px)?"')
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/|#)")
PRIORITY = 4


def width_pt(path):
    """The SVG's width in points (0 when it has none or is not there)."""
    head = path.read_text(encoding="utf-8", errors="replace")[:4000] if path.is_file() else ""
    m = WIDTH.search(head)
    if not m:
        return 0.0
    return float(m["value"]) * (0.75 if m["unit"] in (None, "px") else 1.0)


def relative_url(target, page_url):
    """``target`` (a path from the site's root) as a link from the page at ``page_url``."""
    base = page_url if page_url.endswith("/") else posixpath.dirname(page_url)
    return posixpath.relpath(target, base.rstrip("/") or ".")


class FiguresTreeprocessor(Treeprocessor):
    def run(self, root):
        page = pages.current(self.md)
        if page is None or page.docs_dir is None:
            return
        here = posixpath.dirname(page.src)
        for p in root.iter("p"):
            if len(p) != 1 or (p.text or "").strip() or p[0].tag != "img" or (p[0].tail or "").strip():
                continue
            img = p[0]
            src = img.get("src", "")
            if not src.endswith(".svg") or EXTERNAL.match(src):
                continue
            target = posixpath.normpath(posixpath.join(here, src))  # the SVG under docs/
            narrow = target[: -len(".svg")] + ".narrow.svg"
            if (page.docs_dir / narrow).is_file():
                picture = etree.SubElement(p, "picture")
                p.remove(img)
                # <source> as raw HTML: Python-Markdown writes XHTML's "<source ... />" for an element
                srcset = relative_url(narrow, page.url) if page.generator == "mkdocs" else src[: -len(".svg")] + ".narrow.svg"
                source = f'<source media="{PHONE}" srcset="{html.escape(srcset)}">'
                picture.text = self.md.htmlStash.store(source)
                picture.append(img)
                img.tail = None
            elif width_pt(page.docs_dir / target) > WIDE_PT:
                p.set("class", "figure-scroll")
                p.set("tabindex", "0")
                classes = " ".join(c for c in ("figure-wide", img.get("class")) if c)
                img.attrib = {"class": classes, **{k: v for k, v in img.attrib.items() if k != "class"}}


class FiguresExtension(Extension):
    def extendMarkdown(self, md):
        md.registerExtension(self)
        md.treeprocessors.register(FiguresTreeprocessor(md), "sitekit_figures", PRIORITY)


def makeExtension(**kwargs):
    return FiguresExtension(**kwargs)

