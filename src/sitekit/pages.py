"""Which page a Markdown extension is converting, under MkDocs or under Zensical.

Python-Markdown does not tell an extension which file it converts. Zensical does, through the
``ContextExtension`` it adds to every Markdown instance (its preprocessor holds the page, also in
the inner instances mkdocstrings makes); MkDocs does not, but its ``Page.render`` is up the call
stack. ``current(md)`` tries both, in that order, and gives ``None`` outside either generator.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Current:
    src: str  # the page's source, relative to docs/: "loss.md", "reference/linear.md"
    url: str  # its URL path from the site's root, no leading slash: "loss/", "" for the home page
    docs_dir: Path | None = None  # the folder of the sources
    meta: dict = field(default_factory=dict, compare=False)  # the page's front matter
    generator: str = "mkdocs"  # or "zensical"


def _zensical(md):
    for proc in getattr(md, "preprocessors", ()):
        page = getattr(proc, "page", None)
        if type(proc).__name__ == "ContextPreprocessor" and page is not None:
            docs = (getattr(proc, "config", None) or {}).get("docs_dir")
            return Current(str(page.path).replace("\\", "/"), str(page.url).lstrip("/"), Path(docs) if docs else None,
                           dict(page.meta or {}), "zensical")
    return None


def _mkdocs():
    frame = sys._getframe(1)
    while frame is not None:
        page = frame.f_locals.get("self")
        src = getattr(getattr(page, "file", None), "src_uri", None)
        if isinstance(src, str) and isinstance(getattr(page, "url", None), str):
            abs_src = getattr(page.file, "abs_src_path", None)
            docs = Path(abs_src).parents[src.count("/")] if abs_src else None
            return Current(src, page.url, docs, dict(getattr(page, "meta", None) or {}))
        frame = frame.f_back
    return None


def current(md=None):
    """The page being converted, or ``None``."""
    return _zensical(md) or _mkdocs()


def build_error(message):
    """MkDocs' own error (a clean one-line abort) when MkDocs is building, else a ``ValueError``."""
    if "mkdocs" in sys.modules:
        try:
            from mkdocs.exceptions import PluginError
        except ImportError:
            pass
        else:
            return PluginError(message)
    return ValueError(message)
