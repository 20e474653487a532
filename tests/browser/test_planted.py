"""Plant each fault the suite guards against in a throwaway site, and watch the same checks catch it.

The throwaway site is built in a temporary folder with the real ``mkdocs.yml``'s theme,
Markdown extensions (KaTeX's behind a switch), stylesheets and template overrides, and a handful of
pages: a clean control page, one page per planted fault, a page of wide math and tables that
must scroll in their own boxes, and two pages with "Math | NumPy | PyTorch" tabs.
"""

import shutil
import textwrap

import pytest
import yaml

from tests.browser import checks
from tests.browser.conftest import ROOT, served

FORMULAS = "Inline $a^2 + b^2$ here.\n\n$$\n\\frac{1}{n} \\sum_i x_i\n$$\n"
TABS = textwrap.dedent("""
    === "Math"

        The rate is $r$.

    === "NumPy"

        ```python
        print("numpy")
        ```

    === "PyTorch"

        ```python
        print("torch")
        ```
""")
LONG = " + ".join(f"w_{{{i}}} x_{{{i}}}" for i in range(40))
TABLE = "| " + " | ".join(f"column {i}" for i in range(14)) + " |\n|" + "---|" * 14 + "\n| " + " | ".join(
    f"value {i}" for i in range(14)) + " |\n"
PAGES = {
    "index.md": f"# Clean\n\n{FORMULAS}\n```python\nx = 1 + 2\nprint(x)\n```\n",
    "raw-tex.md": f"---\nkatex: off\n---\n\n# Hook off\n\n{FORMULAS}",
    "raw-dollars.md": "# Dollars left raw\n\n<p>Inside raw HTML: $$\\sum_i x_i$$ stays text.</p>\n",
    "stray-dollar.md": "# A stray dollar\n\nTest $z = x w$ and $$\\frac{a}{b} = x$$ and costs $5.\n",
    "cdn.md": "# A CDN script\n\n<script src=\"https://cdn.jsdelivr.net/npm/katex@0.16.11/dist/katex.min.js\">"
              "</script>\n\nMath from elsewhere.\n",
    "wide.md": "# Too wide\n\n<div style=\"width: 900px; background: #eee\">a 900 px wide box</div>\n",
    "long.md": f"# Long math and a wide table\n\n$$\n{LONG}\n$$\n\n{TABLE}",
    "tabs-a.md": f"# Tabs A\n{TABS}",
    "tabs-b.md": f"# Tabs B\n{TABS}\nAgain:\n{TABS}",
    "wide-figure.md": "# A wide diagram\n\n![a wide diagram](wide.svg)\n",
    "dark-figure.md": "# A figure drawn for a white page\n\n"
                      "![black lines](black.svg){ style=\"background: none; padding: 0\" }\n",
}
BLACK_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="120" viewBox="0 0 300 120">'
             '<path d="M10 60 H290 M150 10 V110" stroke="#000" stroke-width="4"/>'
             '<text x="20" y="40" font-size="20" fill="#000">y = wx + b</text></svg>')
WIDE_SVG = BLACK_SVG.replace('width="300" height="120"', 'width="900pt" height="200pt"')
# The real KaTeX extension, except on a page whose front matter says `katex: off` (a planted
# page of untypeset math). Registered under the real one's name, so it takes its place.
KATEX_UNLESS_OFF = """\
from sitekit import katex, pages


class UnlessOff(katex.KatexPostprocessor):
    def run(self, text):
        page = pages.current(self.md)
        if page is not None and page.meta.get("katex") is False:
            return text
        return super().run(text)


class Extension(katex.KatexExtension):
    def extendMarkdown(self, md):
        md.registerExtension(self)
        md.postprocessors.register(UnlessOff(md), "sitekit_katex", katex.PRIORITY)


def makeExtension(**kwargs):
    return Extension(**kwargs)
"""


def _config():
    from mkdocs.utils.yaml import yaml_load

    with open(ROOT / "mkdocs.yml", encoding="utf-8") as handle:
        real = yaml_load(handle)
    config = {
        "site_name": "Planted",
        # custom_dir is relative to the real mkdocs.yml: point at the real overrides/
        "theme": real["theme"] | ({"custom_dir": str(ROOT / real["theme"]["custom_dir"])}
                                  if "custom_dir" in real["theme"] else {}),
        "extra_css": real["extra_css"],
        "extra_javascript": real.get("extra_javascript", []),
        "markdown_extensions": ["katex_unless_off" if e == "sitekit.katex" else e for e in real["markdown_extensions"]],
        "plugins": ["search"],
        "hooks": [str(ROOT / "hooks" / "generated.py")],  # KaTeX's stylesheet and fonts (sitekit.prebuild)
        "nav": list(PAGES),
    }
    return yaml.safe_dump(config, sort_keys=False) + 'site_url: !ENV [SITE_URL, "http://127.0.0.1:8000/"]\n'


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planted")
    docs = tmp / "docs"
    (docs / "assets").mkdir(parents=True)
    shutil.copytree(ROOT / "docs" / "assets", docs / "assets", dirs_exist_ok=True)  # folders too (explorables/)
    (docs / "black.svg").write_text(BLACK_SVG)
    (docs / "wide.svg").write_text(WIDE_SVG)
    for name, text in PAGES.items():
        (docs / name).write_text(text, encoding="utf-8")
    (tmp / "katex_unless_off.py").write_text(KATEX_UNLESS_OFF)  # imported from the build's folder
    (tmp / "mkdocs.yml").write_text(_config())
    with served(tmp / "mkdocs.yml", tmp) as site:
        yield site


def _load(new_page, site, path, viewport=checks.DESKTOP, **options):
    page = new_page(viewport=viewport, color_scheme="light", **options)
    return page, checks.load(page, site.url(path), site.origin)


def test_the_clean_page_passes_every_check(new_page, planted):
    page, visit = _load(new_page, planted, "")
    assert planted.expected_formulas("") == 2
    assert checks.load_problems(visit) == []
    assert checks.third_party_requests(visit) == []
    assert checks.math_problems(page, 2) == []
    assert checks.axe_violations(page) == []
    checks.view_as(page, checks.MOBILE, "dark")
    assert checks.overflow_problems(page) == []
    assert checks.math_problems(page, 2) == []


def test_planted_untypeset_formulas_are_reported(new_page, planted):
    page, _ = _load(new_page, planted, "raw-tex/")
    problems = checks.math_problems(page, planted.expected_formulas("raw-tex/"))
    assert "0 KaTeX formulas rendered, 2 in the source" in problems
    assert any(p.startswith(r"raw \( \) delimiters") for p in problems), problems
    assert any(p.startswith(r"raw \[ \] delimiters") for p in problems), problems


def test_planted_raw_dollars_are_reported(new_page, planted):
    page, _ = _load(new_page, planted, "raw-dollars/")
    assert planted.expected_formulas("raw-dollars/") == 0, "arithmatex does not see math in raw HTML"
    problems = checks.math_problems(page, 0)
    assert any(p.startswith("raw $$ delimiters") for p in problems), problems


def test_planted_stray_dollar_is_reported(new_page, planted):
    page, _ = _load(new_page, planted, "stray-dollar/")
    problems = checks.math_problems(page, planted.expected_formulas("stray-dollar/"))
    assert any(p.startswith("a stray $ next to a formula") for p in problems), problems


def test_planted_cdn_script_is_reported(new_page, planted):
    page, visit = _load(new_page, planted, "cdn/")
    assert checks.third_party_requests(visit) == ["https://cdn.jsdelivr.net/npm/katex@0.16.11/dist/katex.min.js"]
    assert any("cdn.jsdelivr.net" in p for p in checks.load_problems(visit)), "the blocked request is a failure"


def test_planted_wide_element_is_reported_on_a_phone(new_page, planted):
    page, _ = _load(new_page, planted, "wide/", viewport=checks.MOBILE)
    problems = checks.overflow_problems(page)
    assert len(problems) == 1 and problems[0].startswith("page scrolls sideways"), problems
    assert "div reaches" in problems[0]


def test_long_formula_and_wide_table_scroll_in_their_own_box(new_page, planted):
    page, _ = _load(new_page, planted, "long/", viewport=checks.MOBILE)
    assert checks.overflow_problems(page) == []
    assert checks.math_problems(page, 1) == []
    boxes = page.evaluate("""() => [document.querySelector('.md-typeset .math'),
                                    document.querySelector('.md-typeset table')]
        .map(el => { for (let a = el; a !== document.body; a = a.parentElement) {
                       const scrolls = ['auto', 'scroll'].includes(getComputedStyle(a).overflowX);
                       if (scrolls && a.scrollWidth > a.clientWidth) return true;
                     }
                     return false; })""")
    assert boxes == [True, True], "the formula and the table must be scrollable inside their boxes"


def test_wide_figure_keeps_its_size_on_a_phone_and_scrolls_in_its_box(new_page, planted):
    page, _ = _load(new_page, planted, "wide-figure/", viewport=checks.MOBILE)
    assert checks.overflow_problems(page) == []
    width, scrolls = page.evaluate("""() => { const img = document.querySelector('.md-content img');
        const box = img.parentElement;
        return [img.getBoundingClientRect().width, box.scrollWidth > box.clientWidth]; }""")
    assert width > 600 and scrolls, (width, scrolls)
    checks.view_as(page, checks.DESKTOP, "light")
    assert page.evaluate("document.querySelector('.md-content img').getBoundingClientRect().width") < 800


def test_only_formulas_that_scroll_are_tab_stops(new_page, planted):
    page, visit = _load(new_page, planted, "")
    focusable = "() => [...document.querySelectorAll('.md-typeset .math')].map(m => m.tabIndex)"
    assert page.evaluate(focusable) == [-1], "a formula that fits needs no tab stop"
    assert checks.navigate_instantly(page, visit, planted.url("long/"), planted.title("long/")) == []
    assert page.evaluate(focusable) == [0], "the long formula scrolls: a keyboard must reach it"


def test_planted_black_on_black_figure_is_reported(new_page, planted):
    page, _ = _load(new_page, planted, "dark-figure/")
    assert checks.figure_problems(page) == [], "legible on the light page"
    checks.toggle_palette(page)
    problems = checks.figure_problems(page)
    assert len(problems) == 1 and "black.svg" in problems[0], problems


def test_tabs_switch_and_the_choice_follows_to_the_next_page(new_page, planted):
    page, visit = _load(new_page, planted, "tabs-a/")
    assert checks.tab_problems(page, "Math") == []
    checks.choose_tab(page, "NumPy")
    assert checks.tab_problems(page, "NumPy") == []
    page.goto(planted.url("tabs-b/"))
    assert len(checks.tab_sets(page)) == 2
    assert checks.tab_problems(page, "NumPy") == []
    assert checks.tab_problems(page, "Math") != [], "the check must see a wrong tab"
    assert checks.load_problems(visit) == []


def test_copy_button_copies_and_a_wrong_copy_is_reported(new_page, planted):
    page, _ = _load(new_page, planted, "", permissions=["clipboard-read", "clipboard-write"])
    assert checks.copy_problems(page) == []
    page.evaluate("""document.querySelector('.md-content button[data-clipboard-target]')
                     .setAttribute('data-clipboard-text', 'something else')""")
    assert checks.copy_problems(page) != []


def test_instant_navigation_keeps_math_typeset(new_page, planted):
    page, visit = _load(new_page, planted, "")
    assert checks.navigate_instantly(page, visit, planted.url("long/"), planted.title("long/")) == []
    assert checks.math_problems(page, 1) == []
    assert checks.navigate_instantly(page, visit, planted.url("raw-tex/"), planted.title("raw-tex/")) == []
    assert checks.math_problems(page, 2) != [], "untypeset math after instant navigation is reported"


@pytest.fixture(scope="module")
def planted_for_the_root(planted, tmp_path_factory):
    """The planted site built for its host's root but served under the sub-path, as a ``SITE_URL``
    without the repository's path would leave it on GitHub Pages."""
    with served(planted.root.parent / "mkdocs.yml", tmp_path_factory.mktemp("planted-root"),
                built_for=lambda origin: origin) as site:
        yield site


def test_the_404_page_under_the_sub_path_is_styled_and_links_home(new_page, planted):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    visit = checks.load(page, planted.url("a/missing/deep/page/"), planted.origin)
    assert checks.not_found_problems(page, visit, planted.url()) == []
    report = checks.link_report(planted.root, planted.url())
    assert report.escaping == [] and report.broken == [], report.summary()


def test_a_site_built_for_the_root_is_caught_under_the_sub_path(new_page, planted_for_the_root):
    site = planted_for_the_root
    report = checks.link_report(site.root, site.url())
    assert any(e.startswith("404.html: /assets/") for e in report.escaping), report.escaping
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    visit = checks.load(page, site.url("a/missing/deep/page/"), site.origin)
    problems = checks.not_found_problems(page, visit, site.url())
    assert any(p.startswith("failed request:") and "/assets/" in p for p in problems), problems
    assert any(p.startswith("Material's stylesheet not applied") for p in problems), problems
    assert any(p.startswith(f"no link to {site.url()}") for p in problems), problems
