"""The same sources built by Zensical, Material for MkDocs' successor, as README's "Two generators" says.

Zensical reads ``mkdocs.yml``, runs Python-Markdown extensions and template overrides, and skips
MkDocs hooks. So everything the site needs must come from an extension (``sitekit.katex``,
``sitekit.figures``, ``sitekit.extension``), a template override (``overrides/``) or the pre-build
step (``python -m sitekit.prebuild``). One Zensical build of a copy of ``docs/`` (module fixture,
about 35 s on an idle core) is checked here:

* every formula typeset: no arithmatex wrapper, and no raw ``$``, ``\\(`` or ``\\[`` in an article's
  text outside code and KaTeX's own markup;
* every figure that has a phone rendering shows it (``<picture>`` with the narrow SVG, present);
* every chapter's notebook is there, valid, and its page links it; no other page does;
* every API page rendered by mkdocstrings; KaTeX's stylesheet and fonts published; the search
  dialog named; built as the workflow builds (``REPO_URL`` set), the repository linked without
  the attribute that makes readers' browsers call the GitHub API, and the licence linked.

Planted and caught: a formula left unrendered in a page; build logic put back into a MkDocs hook
(a tiny project whose typesetting, figures and notebooks are hooks: Zensical skips them, and
the same checks report each one), with the right way of the same project as the control.
"""

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import nbformat
import pytest

from sitekit import figures, notebooks, prebuild

ROOT = Path(__file__).resolve().parents[1]
ENV = {k: v for k, v in os.environ.items() if k not in ("REPO_URL", "EDIT_URI", "SITE_URL")} | {
    "NO_MKDOCS_2_WARNING": "1"}
REPO = "https://github.com/example-owner/dismantling-neural-networks"
ARTICLE = re.compile(r'<article class="md-content__inner[^"]*">(.*?)</article>', re.S)

# ---------------------------------------------------------------- building

def zensical_build(project, strict=True, **env):
    """``python -m sitekit.prebuild`` then ``zensical build`` in ``project``; returns its site folder."""
    for step in ([sys.executable, "-m", "sitekit.prebuild", "-f", "mkdocs.yml"],
                 [sys.executable, "-m", "zensical", "build", "--clean", *(["--strict"] if strict else []),
                  "-f", "mkdocs.yml"]):
        run = subprocess.run(step, cwd=project, env=ENV | env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"{' '.join(step[2:4])} failed:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
        assert "Error" not in run.stdout + run.stderr, run.stdout + run.stderr
    return project / "site"


def copy_sources(tmp):
    """A copy of the sources in ``tmp`` that Zensical may write into (its cache, the pre-build's files)."""
    shutil.copytree(ROOT / "docs", tmp / "docs", ignore=shutil.ignore_patterns("*.ipynb", "katex"))
    for name in ("src", "overrides", "LICENSE"):
        (tmp / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / "mkdocs.yml", tmp / "mkdocs.yml")
    return tmp


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return copy_sources(tmp_path_factory.mktemp("zensical"))


@pytest.fixture(scope="module")
def site(project):
    return zensical_build(project, REPO_URL=REPO)  # as the workflow builds: the repository linked


@pytest.fixture(scope="module")
def nav():
    return prebuild.read_config(ROOT / "mkdocs.yml")["nav"]


def pages(site):
    """``{url: html}`` of every page (``"loss/"``, ``""`` for the home page)."""
    out = {}
    for path in sorted(site.rglob("index.html")):
        rel = path.parent.relative_to(site).as_posix()
        out["" if rel == "." else rel + "/"] = path.read_text(encoding="utf-8")
    return out


def article(html):
    m = ARTICLE.search(html)
    return m[1] if m else ""


# ---------------------------------------------------------------- the checks (each returns its problems)

SPANS = re.compile(r'<span class="katex[^"]*"|<span\b|</span>')
CODE = re.compile(r"<(pre|code|script|style|textarea)\b.*?</\1>", re.S)
TAG = re.compile(r"<[^>]+>")


def _without_katex(html):
    """``html`` without KaTeX's spans (their MathML holds the TeX source), found by counting spans."""
    out, pos, depth = [], 0, 0
    for m in SPANS.finditer(html):
        if depth == 0:
            if m[0].startswith('<span class="katex'):
                out.append(html[pos:m.start()])
                depth = 1
            continue
        depth += -1 if m[0] == "</span>" else 1
        if depth == 0:
            pos = m.end()
    out.append(html[pos:] if depth == 0 else "")
    return "".join(out)


def text_outside_code(html):
    """The text of an article outside code and outside KaTeX's markup."""
    return unescape(TAG.sub("", CODE.sub("", _without_katex(html))))


def raw_math(url, html):
    """Formulas left untypeset in a page's article."""
    body = article(html)
    found = [f"{url}: an arithmatex wrapper (a formula KaTeX never saw)"] if 'class="arithmatex"' in body else []
    text = text_outside_code(body)
    for raw in ("$", "\\(", "\\["):
        if raw in text:
            at = text.index(raw)
            found.append(f"{url}: raw {raw!r} in the text: …{text[max(0, at - 40):at + 40]!r}…")
    return found


def figure_problems(url, html, site, docs):
    """Figures with a phone rendering that the page does not offer, or offers from a missing file."""
    found, base = [], url if url.endswith("/") else posixpath.dirname(url)
    body = article(html)
    for m in re.finditer(r'(<source media="(?P<media>[^"]*)" srcset="(?P<narrow>[^"]*)">)?<img [^>]*src="(?P<src>[^"]+\.svg)"',
                         body):
        target = posixpath.normpath(posixpath.join(base, m["src"]))
        if not (docs / (target[: -len(".svg")] + ".narrow.svg")).is_file():
            continue
        if m["narrow"] is None or m["media"] != figures.PHONE:
            found.append(f"{url}: {target} has a phone rendering, but the page shows no <picture> for it")
        elif not (site / posixpath.normpath(posixpath.join(base, m["narrow"]))).is_file():
            found.append(f"{url}: the phone rendering {m['narrow']} is not in the site")
    return found


def figures_shown(all_pages):
    """``{narrow SVG under the site}`` offered by some page."""
    shown = set()
    for url, html in all_pages.items():
        base = url if url.endswith("/") else posixpath.dirname(url)
        for narrow in re.findall(r'<picture><source media="[^"]*" srcset="([^"]+\.narrow\.svg)">', article(html)):
            shown.add(posixpath.normpath(posixpath.join(base, narrow)))
    return shown


def notebook_problems(site, nav, all_pages):
    """A chapter without its notebook or its link, a broken notebook, or an action on another page."""
    found, chapter_urls = [], set()
    for src, title in notebooks.chapters(nav):
        uri, url = notebooks.notebook_uri(src), notebooks.page_url(src)
        chapter_urls.add(url)
        path = site / uri
        if not path.is_file():
            found.append(f"{src}: no notebook {uri} in the site")
        else:
            try:
                nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
                nbformat.validate(nb)
            except (nbformat.ValidationError, json.JSONDecodeError) as err:
                found.append(f"{uri}: not a valid notebook: {str(err)[:200]}")
            else:
                if title and f"[{title}]" not in nb.cells[0].source:
                    found.append(f"{uri}: the first cell does not name its chapter {title!r}")
        hrefs = re.findall(r'<a href="([^"]*)"[^>]*data-notebook-action', all_pages.get(url, ""))
        if len(hrefs) != 1:
            found.append(f"{url}: {len(hrefs)} 'Download notebook' actions, not one")
        elif posixpath.normpath(posixpath.join(url, hrefs[0])) != uri:
            found.append(f"{url}: the action links {hrefs[0]}, not {uri}")
    for url, html in all_pages.items():
        if url not in chapter_urls and "data-notebook-action" in html:
            found.append(f"{url}: a 'Download notebook' action on a page that is no chapter")
    return found


def repository_problems(url, html):
    """The repository link that makes no request to api.github.com, and the licence linked (overrides/partials/)."""
    found = []
    if not re.search(rf'<a href="{re.escape(REPO)}"[^>]*class="md-source"', html):
        found.append(f"{url}: no link to the repository")
    if 'data-md-component="source"' in html:
        found.append(f"{url}: the repository link would make readers' browsers call the GitHub API")
    if f'<a href="{REPO}/blob/HEAD/LICENSE">MIT licence</a>' not in html:
        found.append(f"{url}: the footer does not link the licence")
    return found


def api_problems(site, docs):
    found = []
    for md in sorted((docs / "reference").glob("*.md")):
        path = site / "reference" / md.stem / "index.html"
        body = article(path.read_text(encoding="utf-8")) if path.is_file() else ""
        if 'class="doc doc-object' not in body or 'class="doc doc-heading"' not in body:
            found.append(f"reference/{md.stem}/: no API documentation rendered")
        if re.search(r"^:::|<p>:::", body, re.M):
            found.append(f"reference/{md.stem}/: a raw ::: directive")
    return found


# ---------------------------------------------------------------- the real site, by Zensical

def test_every_formula_is_typeset(site):
    all_pages = pages(site)
    found = [p for url, html in all_pages.items() for p in raw_math(url, html)]
    assert found == []
    typeset = sum(article(html).count('class="katex"') for html in all_pages.values())
    assert typeset >= 1000, f"only {typeset} KaTeX formulas in the whole site"


def test_every_figure_shows_its_phone_rendering(site):
    docs = site.parent / "docs"
    all_pages = pages(site)
    assert [p for url, html in all_pages.items() for p in figure_problems(url, html, site, docs)] == []
    narrow = {p.relative_to(docs).as_posix() for p in (docs / "figures").glob("*.narrow.svg")}
    assert narrow and narrow <= figures_shown(all_pages), f"never shown: {sorted(narrow - figures_shown(all_pages))}"


def test_every_chapter_has_its_notebook_and_link(site, nav):
    assert len(notebooks.chapters(nav)) >= 8
    assert notebook_problems(site, nav, pages(site)) == []


def test_the_api_pages_are_rendered(site):
    docs = site.parent / "docs"
    assert len(list((docs / "reference").glob("*.md"))) >= 10
    assert api_problems(site, docs) == []
    assert article((site / "reference" / "linear" / "index.html").read_text(encoding="utf-8")).count(
        'class="katex"') >= 3, "the Linear docstring formulas must be typeset"


def test_katex_assets_search_dialog_and_no_third_party_scripts(site):
    assert (site / "assets" / "katex" / "katex.min.css").is_file()
    assert len(list((site / "assets" / "katex" / "fonts").glob("*.woff2"))) >= 10
    for url, html in pages(site).items():
        assert "assets/katex/katex.min.css" in html, url
        assert re.search(r'role="dialog"[^>]*aria-label="[^"]+"', html), f"{url}: the search dialog has no name"
        assert not re.findall(r'<script[^>]+src="https?://', html), url


def test_the_repository_and_licence_are_linked_without_the_github_api(site):
    all_pages = pages(site)
    assert [p for url, html in all_pages.items() for p in repository_problems(url, html)] == []
    html = all_pages["loss/"]  # planted: the attribute Material's and Zensical's partial carry, put back
    planted = html.replace('class="md-source"', 'class="md-source" data-md-component="source"', 1)
    assert any("GitHub API" in p for p in repository_problems("loss/", planted))


# ---------------------------------------------------------------- planted

def test_planted_formula_left_unrendered_is_caught(site):
    url, html = "loss/", pages(site)["loss/"]
    assert raw_math(url, html) == []
    inline = re.search(r'<span class="katex">.*?</annotation></semantics></math></span>'
                       r'<span class="katex-html" aria-hidden="true">', html, re.S)
    assert inline
    planted = html.replace('<span class="katex">', '<span class="arithmatex">\\(a^2\\)</span><span hidden>', 1)
    assert any("arithmatex wrapper" in p for p in raw_math(url, planted))
    bare = html.replace("<p>", "<p>It costs $x$ here. ", 1)
    assert any("raw '$'" in p for p in raw_math(url, bare))
    assert raw_math(url, html.replace("<code>", "<code>$ echo \\(", 1)) == [], "code may show dollars"


TINY_PAGES = {
    "index.md": "# Home\n\nNothing to see.\n",
    "ch.md": "# Ch\n\nThe rate is $r$ and\n\n$$\nx^2\n$$\n\n![a figure](figures/f.svg)\n\n"
             "```python\nprint(1 + 1)\n```\n\n<!--pytest-codeblocks:expected-output-->\n```\n2\n```\n",
}
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="100pt" viewBox="0 0 {w} 100"></svg>'
# The old way: the same work in MkDocs hooks. MkDocs would run them; Zensical skips them.
OLD_HOOK = """\
from mkdocs.structure.files import File
from sitekit import katex, prebuild

def on_files(files, config, **kwargs):
    for uri, content in prebuild.generated(config.nav, config.docs_dir, site_url=config.site_url).items():
        files.append(File.generated(config, uri, content=content))
    return files

def on_page_content(html, **kwargs):
    return katex.typeset(html)
"""


def _tiny(tmp, in_hooks):
    """The tiny project, its work done by extensions and the pre-build step, or (``in_hooks``) by a hook."""
    docs = tmp / "docs"
    (docs / "figures").mkdir(parents=True)
    for name, text in TINY_PAGES.items():
        (docs / name).write_text(text, encoding="utf-8")
    (docs / "figures" / "f.svg").write_text(SVG.format(w=600))
    (docs / "figures" / "f.narrow.svg").write_text(SVG.format(w=240))
    (tmp / "overrides").symlink_to(ROOT / "overrides")
    extensions = ["attr_list", {"pymdownx.arithmatex": {"generic": True}}, "pymdownx.superfences"]
    config = {"site_name": "Tiny", "theme": {"name": "material", "custom_dir": "overrides"},
              "extra_css": ["assets/katex/katex.min.css"],
              "markdown_extensions": extensions + ([] if in_hooks else ["sitekit.katex", "sitekit.figures"]),
              "nav": [{"Home": "index.md"}, {"Part I: tiny": [{"Ch": "ch.md"}]}]}
    if in_hooks:
        (tmp / "old_hook.py").write_text(OLD_HOOK)
        config["hooks"] = ["old_hook.py"]
    (tmp / "mkdocs.yml").write_text(json.dumps(config, indent=1))  # JSON is YAML
    return tmp


def _zensical_only(project):
    """``zensical build`` alone: in the planted project the pre-build's work is a hook's."""
    run = subprocess.run([sys.executable, "-m", "zensical", "build", "-f", "mkdocs.yml"], cwd=project, env=ENV,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return project / "site"


def _all_problems(site):
    docs, nav = site.parent / "docs", prebuild.read_config(site.parent / "mkdocs.yml")["nav"]
    all_pages = pages(site)
    found = [p for url, html in all_pages.items() for p in raw_math(url, html) + figure_problems(url, html, site, docs)]
    return found + notebook_problems(site, nav, all_pages)


def test_planted_logic_put_back_into_a_hook_is_caught(tmp_path):
    right = _all_problems(zensical_build(_tiny(tmp_path / "right", in_hooks=False)))
    assert right == [], "the control: the tiny project done the right way passes"
    wrong = _all_problems(_zensical_only(_tiny(tmp_path / "hooks", in_hooks=True)))
    assert any("arithmatex wrapper" in p for p in wrong), wrong
    assert any("no <picture>" in p for p in wrong), wrong
    assert any("no notebook ch.ipynb" in p for p in wrong), wrong
    # The plant is real: MkDocs runs the same hook, and the math and the notebook are there.
    project = tmp_path / "hooks"
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", "mkdocs-site"], cwd=project, env=ENV,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    by_mkdocs = project / "mkdocs-site"
    assert [p for url, html in pages(by_mkdocs).items() for p in raw_math(url, html)] == []
    assert (by_mkdocs / "ch.ipynb").is_file()


def test_a_malformed_formula_fails_the_zensical_build_with_its_page(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Broken\n\nThis is $\\frac{1}{$ wrong.\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\ntheme:\n  name: material\nmarkdown_extensions:\n"
                                         "  - pymdownx.arithmatex:\n      generic: true\n  - sitekit.katex\n")
    run = subprocess.run([sys.executable, "-m", "zensical", "build", "-f", "mkdocs.yml"], cwd=tmp_path, env=ENV,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "index.md: KaTeX cannot render" in run.stdout + run.stderr
