"""MkDocs only: hand MkDocs the site's generated files (``sitekit.prebuild``), in memory.

KaTeX's stylesheet and fonts and every chapter's notebook are made by ``sitekit.prebuild``, which
Zensical runs as a step before its build (it skips MkDocs hooks). MkDocs gets the same files
here, so ``mkdocs build`` and ``mkdocs serve`` alone make the whole site. No build logic lives in
this file: a file ``python -m sitekit.prebuild`` left in ``docs/`` is replaced by the fresh one.
"""

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

from sitekit import notebooks, prebuild


def on_files(files, config, **kwargs):
    try:
        made = prebuild.generated(config.nav, config.docs_dir, site_url=config.site_url, repo_url=config.repo_url,
                                  use_directory_urls=config.use_directory_urls,
                                  root=Path(config.config_file_path).parent)
    except notebooks.NotebookError as err:
        raise PluginError(f"cannot make a notebook of {err}") from None
    for uri, content in made.items():
        old = files.get_file_from_path(uri)
        if old is not None:
            files.remove(old)
        files.append(File.generated(config, uri, content=content))
    return files
