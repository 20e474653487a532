"""Readers can find the source: the repository, each page's own file, and the licence.

The site is built twice, strictly: as the workflow builds it (``REPO_URL``/``EDIT_URI`` set, the
way ``site.yml`` sets them from ``github.server_url`` and ``github.repository``), and as a
local build does (neither set), which must have no repository link, no edit link, no link
that leads nowhere and no warning.
"""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.test_workflow import WORKFLOW, _load

ROOT = Path(__file__).resolve().parents[1]
REPO = "https://github.com/example-owner/dismantling-neural-networks"
EDIT = "edit/main/docs/"


def _build(out, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("REPO_URL", "EDIT_URI")}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                         env=clean | {"NO_MKDOCS_2_WARNING": "1"} | env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return out, run.stderr


@pytest.fixture(scope="module")
def published(published_site):
    return published_site  # conftest.py's: one build, shared with tests/test_site.py and test_moved_anchors.py


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("local"))


def _pages(site):
    """``{source file: built html}`` for every Markdown page (API pages included)."""
    out = {}
    for md in sorted((ROOT / "docs").rglob("*.md")):
        rel = md.relative_to(ROOT / "docs").as_posix()
        stem = rel[: -len(".md")]
        html = site / (stem[: -len("index")] if stem.endswith("index") else stem + "/") / "index.html"
        if html.is_file():
            out[rel] = html.read_text(encoding="utf-8")
    return out


def test_every_page_links_to_the_repository_and_its_own_source(published):
    site, _ = published
    pages = _pages(site)
    assert len(pages) >= 10
    for src, html in pages.items():
        assert f'href="{REPO}"' in html, f"{src}: no link to the repository"
        edits = re.findall(r'<a href="([^"]+)"[^>]*rel="edit"', html)
        assert edits == [f"{REPO}/{EDIT}{src}"], f"{src}: edit links {edits}"
        assert (ROOT / "docs" / src).is_file()


def test_the_repository_link_asks_github_for_nothing(published):
    """Material fetches stars and forks from api.github.com for ``data-md-component="source"``."""
    site, _ = published
    for src, html in _pages(site).items():
        assert 'class="md-source"' in html, src
        assert 'data-md-component="source"' not in html, f"{src}: the repository link would call the GitHub API"
    not_found = (site / "404.html").read_text(encoding="utf-8")
    assert f'href="{REPO}"' in not_found and 'data-md-component="source"' not in not_found


def test_the_footer_links_the_licence(published, local):
    licence = f'<a href="{REPO}/blob/HEAD/LICENSE">MIT licence</a>'
    for src, html in _pages(published[0]).items():
        assert licence in html, f"{src}: the footer does not link to LICENSE"
    for src, html in _pages(local[0]).items():
        assert "MIT licence" in html and "LICENSE" not in html, src


def test_a_local_build_has_no_repository_link_and_no_warning(local):
    site, stderr = local
    assert "WARNING" not in stderr, stderr
    assert "Formatting signatures requires" not in stderr, "mkdocstrings found neither Ruff nor Black"
    for src, html in _pages(site).items():
        assert 'class="md-source"' not in html and 'rel="edit"' not in html, src
        empty = re.findall(r'<a [^>]*href="(|None|/?edit/[^"]*)"', html)
        assert empty == [], f"{src}: links that lead nowhere: {empty}"


def test_the_workflow_sets_the_repository_from_github():
    env = _load(WORKFLOW)["env"]
    assert env["REPO_URL"] == "${{ github.server_url }}/${{ github.repository }}"
    assert re.fullmatch(r"edit/\$\{\{ github\.event\.repository\.default_branch \}\}/docs/", env["EDIT_URI"])


def test_the_licence_is_mit_and_the_metadata_points_to_it():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
