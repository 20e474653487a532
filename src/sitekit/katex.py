"""Render every formula at build time with KaTeX, so pages ship HTML, not math JavaScript.

A Python-Markdown extension (``sitekit.katex`` in ``mkdocs.yml``), so MkDocs and Zensical both
run it. pymdownx.arithmatex (generic mode) wraps formulas as
``<span class="arithmatex">\\(…\\)</span>`` and ``<div class="arithmatex">\\[…\\]</div>``. A
postprocessor, run once the page's HTML is whole (after the raw HTML and ``&`` are put back, before
Zensical's search index reads it), hands each one to a single Node process running
``katex.renderToString`` (``katex_render.js`` beside this file) and splices the HTML in.
mkdocstrings' docstrings go through it too. A formula KaTeX cannot parse stops the build with the
page and the formula.

KaTeX's MathML copy (for screen readers) carries the TeX source in an ``<annotation>``; it is
marked ``data-search-exclude`` so the search index, and the result snippets readers see, hold
the typeset text only, not ``\\frac{…}`` next to it.

KaTeX's stylesheet and its woff2 fonts are published under ``assets/katex/`` by ``publish``
(``python -m sitekit.prebuild`` runs it).
"""

import atexit
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor

from sitekit import pages

ROOT = Path(__file__).resolve().parents[2]
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
RENDERER = Path(__file__).with_name("katex_render.js")
ASSETS = "assets/katex"
MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\])</(?P=tag)>',
    re.DOTALL,
)
PRIORITY = 10  # postprocessors: after raw_html (30) and amp_substitute (20), before Zensical's search (0)
_node = None


def _require_katex():
    if not KATEX_DIST.is_dir():
        raise pages.build_error(f"KaTeX not found at {KATEX_DIST}: run `npm ci` (make install does)")


def _renderer():
    global _node
    if _node is None or _node.poll() is not None:
        _require_katex()
        node = shutil.which("node")
        if node is None:
            raise pages.build_error("node is required to render math at build time")
        _node = subprocess.Popen(
            [node, str(RENDERER)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT,
        )
        atexit.register(_node.kill)
    return _node


def render(tex, display):
    """Return KaTeX's HTML for ``tex``, or raise ``ValueError`` with KaTeX's message."""
    node = _renderer()
    node.stdin.write(json.dumps({"tex": tex, "display": display}) + "\n")
    node.stdin.flush()
    reply = json.loads(node.stdout.readline())
    if "error" in reply:
        raise ValueError(reply["error"])
    return reply["html"]


def typeset(content, where="<page>"):
    """``content`` with every arithmatex wrapper replaced by KaTeX's HTML."""
    def replace(m):
        display = m.group("display") is not None
        tex = html.unescape(m.group("display") if display else m.group("inline"))
        try:
            out = render(tex, display)
        except ValueError as err:
            raise pages.build_error(f"{where}: KaTeX cannot render {tex!r}: {err}") from None
        out = out.replace('<span class="katex-mathml">', '<span class="katex-mathml" data-search-exclude>', 1)
        # tabindex: a display formula wider than the column scrolls in its box, and a
        # scrollable region must be reachable by keyboard (axe scrollable-region-focusable).
        return f'<div class="math" tabindex="0">{out}</div>' if display else out

    return MATH.sub(replace, content)


class KatexPostprocessor(Postprocessor):
    def run(self, text):
        if 'class="arithmatex"' not in text:
            return text
        page = pages.current(self.md)
        return typeset(text, page.src if page else "<page>")


class KatexExtension(Extension):
    def extendMarkdown(self, md):
        md.registerExtension(self)
        md.postprocessors.register(KatexPostprocessor(md), "sitekit_katex", PRIORITY)


def makeExtension(**kwargs):
    return KatexExtension(**kwargs)


# ---------------------------------------------------------------- the stylesheet and fonts

def stylesheet():
    """KaTeX's CSS with only the woff2 font sources: every browser we serve reads woff2."""
    css = (KATEX_DIST / "katex.min.css").read_text(encoding="utf-8")
    return re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)


def assets():
    """``{path under the site: bytes}`` of KaTeX's stylesheet and woff2 fonts."""
    _require_katex()
    out = {f"{ASSETS}/katex.min.css": stylesheet().encode("utf-8")}
    for font in sorted((KATEX_DIST / "fonts").glob("*.woff2")):
        out[f"{ASSETS}/fonts/{font.name}"] = font.read_bytes()
    return out
