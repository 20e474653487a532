"""The strict site build: links, anchors, API pages and build-time math."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs"]
ENV = os.environ | {"NO_MKDOCS_2_WARNING": "1"}


@pytest.fixture(scope="module")
def site(published_site):
    """The strict build as the workflow makes it (conftest.py's, shared with other test files)."""
    return published_site[0]


def pages(site):
    return sorted(p for p in site.rglob("index.html") if "search" not in p.parts)


def test_every_formula_is_rendered_at_build_time(site):
    for page in pages(site):
        html = page.read_text(encoding="utf-8")
        assert 'class="arithmatex"' not in html, f"{page}: a formula escaped KaTeX"
        assert "katex.min.js" not in html and "mathjax" not in html.lower(), f"{page}: math JavaScript shipped"


def test_no_third_party_assets(site):
    for page in pages(site):
        html = page.read_text(encoding="utf-8")
        scripts = re.findall(r'<script[^>]+src="(https?://[^"]+)"', html)
        links = [t for t in re.findall(r"<link[^>]+>", html) if 'rel="canonical"' not in t]
        external = scripts + [u for t in links for u in re.findall(r'href="(https?://[^"]+)"', t)]
        assert external == [], f"{page}: loads {external}"


def test_api_pages_render_docstring_math(site):
    html = (site / "reference" / "linear" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="katex"') >= 3, "the Linear docstring formulas must be typeset"


def _throwaway(tmp_path, body):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(body)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nmarkdown_extensions:\n  - pymdownx.arithmatex:\n      generic: true\n  - sitekit.katex\n"
    )
    return subprocess.run([*MKDOCS, "build", "--strict", "-d", str(tmp_path / "site")], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True)


def test_malformed_formula_fails_the_build(tmp_path):
    run = _throwaway(tmp_path, "# Broken\n\nThis is $\\frac{1}{$ wrong.\n")
    assert run.returncode != 0
    assert "KaTeX cannot render" in run.stderr and "index.md" in run.stderr


def test_plain_dollars_stay_text(tmp_path):
    run = _throwaway(tmp_path, "# Prices\n\nIt costs $5 and $10, or \\$3; the rate is $r_t$.\n")
    assert run.returncode == 0, run.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "costs $5 and $10, or $3" in html
    assert html.count('class="katex"') == 1
