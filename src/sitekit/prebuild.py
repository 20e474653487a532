"""The site's generated files, made before the build, the same for MkDocs and Zensical.

* KaTeX's stylesheet and its woff2 fonts under ``assets/katex/`` (``sitekit.katex.assets``);
* every chapter's notebook beside its page: ``docs/loss.md`` gives ``loss.ipynb``
  (``sitekit.notebooks``); ``overrides/main.html`` links it from the chapter's title.

Zensical skips MkDocs hooks, so ``python -m sitekit.prebuild`` writes them into ``docs/`` (ignored
by git) before ``zensical build`` (``make zensical`` runs both). A notebook in ``docs/`` that no
chapter makes any more is removed: notebooks are never kept by hand. MkDocs gets the same files
from ``hooks/generated.py``, in memory, so ``mkdocs build`` and ``mkdocs serve`` alone stay whole
(and a notebook follows its page's edits while serving), and builds for different ``SITE_URL``s
(the suite's) do not share a folder.

    python -m sitekit.prebuild [-f mkdocs.yml] [--docs-dir DIR]
"""

import argparse
import os
import sys
from pathlib import Path

import yaml

from sitekit import katex, notebooks


class _Loader(yaml.SafeLoader):
    """``mkdocs.yml``'s YAML: ``!ENV VAR`` and ``!ENV [VAR, OTHER, default]`` as MkDocs reads them."""


def _env(loader, node):
    if isinstance(node, yaml.ScalarNode):
        names, default = [loader.construct_scalar(node)], None
    else:
        values = loader.construct_sequence(node)
        names, default = values[:-1], values[-1]
    for name in names:
        if name in os.environ:
            return yaml.safe_load(os.environ[name]) if os.environ[name] else os.environ[name]
    return default


_Loader.add_constructor("!ENV", _env)


def read_config(path):
    """``mkdocs.yml`` as a dict, with ``!ENV`` tags resolved from the environment."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, _Loader) or {}  # a SafeLoader subclass


def generated(nav, docs_dir, *, site_url=None, repo_url=None, use_directory_urls=True, root=None):
    """``{path under the site: bytes}`` of every generated file.

    Raises ``notebooks.NotebookError`` (page and line) for a page that cannot become a notebook.
    """
    files = katex.assets()
    files.update(notebooks.generated(nav, docs_dir, site_url=site_url, repo_url=repo_url,
                                     use_directory_urls=use_directory_urls, root=root or notebooks.ROOT))
    return files


def from_config(config_file, docs_dir=None):
    """``generated`` for the site ``config_file`` describes."""
    config = read_config(config_file)
    base = Path(config_file).resolve().parent
    docs = Path(docs_dir) if docs_dir else base / config.get("docs_dir", "docs")
    return docs, generated(config.get("nav"), docs, site_url=config.get("site_url"),
                           repo_url=config.get("repo_url"),
                           use_directory_urls=config.get("use_directory_urls", True), root=base)


def write(files, docs_dir):
    """Write ``files`` under ``docs_dir`` (only those that changed); remove stale notebooks."""
    docs = Path(docs_dir)
    changed = []
    for uri, content in sorted(files.items()):
        path = docs / uri
        if path.is_file() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(content)
        os.replace(tmp, path)
        changed.append(uri)
    for stale in sorted(docs.rglob("*.ipynb")):
        if stale.relative_to(docs).as_posix() not in files:
            stale.unlink()
            changed.append(f"{stale.relative_to(docs).as_posix()} (removed)")
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-f", "--config-file", default="mkdocs.yml")
    parser.add_argument("--docs-dir", help="write here instead of the config's docs_dir")
    args = parser.parse_args(argv)
    try:
        docs, files = from_config(args.config_file, args.docs_dir)
    except notebooks.NotebookError as err:
        print(f"prebuild: cannot make a notebook of {err}", file=sys.stderr)
        return 1
    changed = write(files, docs)
    print(f"prebuild: {len(files)} generated files in {docs} ({len(changed)} written or removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
