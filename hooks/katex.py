"""Render every formula at build time with KaTeX, so pages ship HTML, not math JavaScript.

pymdownx.arithmatex (generic mode) wraps formulas as ``<span class="arithmatex">\\(…\\)</span>``
and ``<div class="arithmatex">\\[…\\]</div>``. This hook hands each one to a single Node
process running ``katex.renderToString`` (``hooks/katex_render.js``) and splices the HTML in.
A formula KaTeX cannot parse stops the build with the page and the formula. The hook also
publishes KaTeX's stylesheet and its woff2 fonts from ``node_modules`` under ``assets/katex/``.

KaTeX's MathML copy (for screen readers) carries the TeX source in an ``<annotation>``; it is
marked ``data-search-exclude`` so the search index, and the result snippets readers see, hold
the typeset text only, not ``\\frac{…}`` next to it.
"""

import atexit
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
KATEX_DIST = ROOT / "node_modules" / "katex" / "dist"
ASSETS = "assets/katex"
MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\])</(?P=tag)>',
    re.DOTALL,
)
_node = None


def _require_katex():
    if not KATEX_DIST.is_dir():
        raise PluginError(f"KaTeX not found at {KATEX_DIST}: run `npm ci` (make install does)")


def _renderer():
    global _node
    if _node is None or _node.poll() is not None:
        _require_katex()
        node = shutil.which("node")
        if node is None:
            raise PluginError("node is required to render math at build time")
        _node = subprocess.Popen(
            [node, str(Path(__file__).with_name("katex_render.js"))],
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


def on_page_content(content, page, **kwargs):
    def replace(m):
        display = m.group("display") is not None
        tex = html.unescape(m.group("display") if display else m.group("inline"))
        try:
            out = render(tex, display)
        except ValueError as err:
            raise PluginError(f"{page.file.src_uri}: KaTeX cannot render {tex!r}: {err}") from None
        out = out.replace('<span class="katex-mathml">', '<span class="katex-mathml" data-search-exclude>', 1)
        # tabindex: a display formula wider than the column scrolls in its box, and a
        # scrollable region must be reachable by keyboard (axe scrollable-region-focusable).
        return f'<div class="math" tabindex="0">{out}</div>' if display else out

    return MATH.sub(replace, content)


def _stylesheet():
    """KaTeX's CSS with only the woff2 font sources: every browser we serve reads woff2."""
    css = (KATEX_DIST / "katex.min.css").read_text(encoding="utf-8")
    return re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)


def on_files(files, config, **kwargs):
    _require_katex()
    files.append(File.generated(config, f"{ASSETS}/katex.min.css", content=_stylesheet()))
    for font in sorted((KATEX_DIST / "fonts").glob("*.woff2")):
        files.append(File.generated(config, f"{ASSETS}/fonts/{font.name}", abs_src_path=str(font)))
    return files
