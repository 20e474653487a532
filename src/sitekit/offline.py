r"""The site from a folder: a zip of the built site that works unzipped and opened with ``file://``.

Run after ``mkdocs build`` and the book (``make build`` does)::

    python -m sitekit.offline site     # writes site/dismantling-neural-networks-site.zip

A post-build step, not a MkDocs hook and not a second build: it copies the built site and
changes only what ``file://`` needs, as Material's offline plugin would (that plugin needs a
second build, and adds a script from a CDN):

* a link to a folder (``../loss/``, ``./``, ``..``) names its ``index.html``, since a browser
  shows a folder's listing, not its index, from the disk;
* the search index is also written as a script (``search/search_index.js``, ``var __index``),
  which Material loads instead of fetching JSON when the page is a ``file://`` one, with each
  result's location naming its ``index.html`` too;
* an explorable's data (``assets/explorables/*.json``, which a page may not fetch from the disk)
  is also written as a script, ``*.data.js``, which the explorable loads there instead;
* Material's search runs in a Web Worker, which Chromium refuses to start from ``file://``:
  every page loads the ``iframe-worker`` shim (npm, vendored from ``node_modules``) first, which
  runs the worker in an iframe instead. Material turns instant navigation off by itself there.

Everything else (figures, KaTeX, the notebooks, the PDF, the palette toggle) already works
from relative addresses. The zip holds one folder,
``dismantling-neural-networks/``; open its ``index.html``.
"""

import json
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ZIP_NAME = "dismantling-neural-networks-site.zip"
FOLDER = "dismantling-neural-networks"
SHIM = ROOT / "node_modules" / "iframe-worker" / "shim" / "index.js"
SHIM_AT = "assets/javascripts/iframe-worker.js"
ATTR = re.compile(r'(?P<pre><(?:a|link)\b[^<>]*?\shref=")(?P<value>[^"#?]*)(?P<rest>[?#][^"]*)?"')
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _index_of(path):
    """``"../loss/"`` -> ``"../loss/index.html"``; a file or an absolute address stays."""
    if SCHEME.match(path) or path.startswith("/"):
        return path
    if path in (".", "..") or path.endswith(("/.", "/..")):
        return path + "/index.html"
    if path.endswith("/"):
        return path + "index.html"
    return path


def _page(html, depth, links=True, shim=True):
    """One page, made to work from the disk (see the module's doc); ``depth``: its folders below the root."""
    def link(m):
        if not links:
            return m[0]
        value = m["value"]
        if value == "" and m["rest"]:
            return m[0]  # "#anchor": the same page
        return f'{m["pre"]}{_index_of(value or ".")}{m["rest"] or ""}"'

    html = ATTR.sub(link, html)
    if not shim:
        return html
    return html.replace("<head>", f'<head>\n<script src="{"../" * depth + SHIM_AT}"></script>', 1)


def make_folder(site, out, links=True, shim=True):
    """A copy of the built ``site`` at ``out`` that works from ``file://``.

    ``links=False`` or ``shim=False`` leave out the link rewriting or the worker shim (the
    browser suite plants each fault and sees it caught).
    """
    site, out = Path(site), Path(out)
    if not SHIM.is_file():
        raise SystemExit(f"{SHIM} is missing: npm ci installs it")
    shutil.copytree(site, out, ignore=shutil.ignore_patterns(ZIP_NAME, "_book-print.html"))
    for page in out.rglob("*.html"):
        depth = len(page.relative_to(out).parts) - 1
        page.write_text(_page(page.read_text(encoding="utf-8"), depth, links, shim), encoding="utf-8")
    shutil.copyfile(SHIM, out / SHIM_AT)
    for data in (out / "assets" / "explorables").glob("*.json"):  # an explorable's data, as a script
        data.with_suffix(".data.js").write_text(
            "window.explorableData = window.explorableData || {};\n"
            f"window.explorableData[{json.dumps(data.name)}] = {data.read_text(encoding='utf-8')};\n",
            encoding="utf-8")
    index_file = out / "search" / "search_index.json"
    if index_file.is_file():
        index = json.loads(index_file.read_text(encoding="utf-8"))
        for doc in index.get("docs", []):
            path, _, frag = doc["location"].partition("#")
            if links:
                doc["location"] = _index_of(path or ".").removeprefix("./") + ("#" + frag if frag else "")
        (out / "search" / "search_index.js").write_text("var __index = " + json.dumps(index), encoding="utf-8")
    return out


def make_zip(site, zip_path=None):
    """``site/ZIP_NAME``: the folder of ``make_folder``, zipped under ``FOLDER/``."""
    site = Path(site)
    zip_path = Path(zip_path) if zip_path else site / ZIP_NAME
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(site, Path(tmp) / FOLDER)
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder.parent).as_posix())
    return zip_path


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    site = Path(argv[0] if argv else "site")
    if not (site / "index.html").is_file():
        raise SystemExit(f"{site}/index.html not found: build the site first (make build)")
    path = make_zip(site)
    print(f"offline site: {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
