"""Every figure on every nav page is legible: its smallest text renders at 11 CSS px or more.

Each page with figures is loaded once, then re-viewed at 1280 px and at 375 px, light and dark
(``checks.view_as``; the page survey's one load, ``conftest.survey``); ``figtext.measure`` reads
the size each text element of each figure has on screen. The run ends with the table (figure,
viewport, smallest text) in the terminal summary and in ``artifacts/figure-text.txt``. A throwaway site plants a figure with small
text, one that is only small on a phone, and a wide one that scrolls without a cue, and the
same check must report each of them.
"""

import pytest

from tests.browser import checks, figtext
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import NAV, ROOT, SECTION, served

PAGES = [url for _, _, url in NAV]
# The page survey's variants (viewport, scheme), named here by width: "1280-light", "375-dark", ...
SURVEYED_AS = {f"{viewport['width']}-{scheme}": variant
               for variant, (viewport, scheme) in browser_conftest.VARIANTS.items()}
VARIANTS = {name: browser_conftest.VARIANTS[variant] for name, variant in SURVEYED_AS.items()}
TABLE = ROOT / "artifacts" / "figure-text.txt"


class _Table:
    """Collects rows during the run; hands them to the root conftest's end-of-run sections on the
    tests' reports (so that they reach the controller under pytest-xdist) and writes ``TABLE``."""

    title = "figure text (smallest text of each figure, CSS px)"
    head = f"{'figure':<40}{'page':<22}{'viewport':<12}{'shown px':>9}{'smallest text px':>18}"

    def __init__(self):
        self.rows = {}
        self.sent = set()

    @staticmethod
    def line(key, row):
        (path, variant, name), (shown, px) = key, row
        return f"{name:<40}{'/' + path:<22}{variant:<12}{shown:>9.0f}{px:>18.1f}{'' if px >= 11 else '  < 11'}"

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        out = outcome.get_result().user_properties
        for key, row in self.rows.items():
            if key not in self.sent:
                if not self.sent:
                    out.append((SECTION, [self.title, "", self.head]))
                self.sent.add(key)
                out.append((SECTION, [self.title, "/".join(key), self.line(key, row)]))

    def pytest_sessionfinish(self):
        if self.rows:
            TABLE.parent.mkdir(exist_ok=True)
            lines = [self.head, *(self.line(key, row) for key, row in self.rows.items())]
            TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def figure_table(pytestconfig):
    table = _Table()
    pytestconfig.pluginmanager.register(table, "figure-text-table")
    return table


def report(path, measured, table=None):
    """The problems of ``measured`` (``{variant: [figtext.FigureText]}``); each row goes in ``table``."""
    found = []
    for variant, figures in measured.items():
        for f in figures:
            if table is not None:
                table.rows[(path, variant, f.name)] = (f.shown_px, f.smallest_px)
        found += [f"{variant}: {p}" for p in figtext.problems(figures)]
    return found


def view_all(page, path, table=None):
    """Measure every figure of the open page in every variant; return the problems found."""
    measured = {}
    for variant, (viewport, scheme) in VARIANTS.items():
        checks.view_as(page, viewport, scheme)
        measured[variant] = figtext.measure(page)
    return report(path, measured, table)


@pytest.mark.parametrize("path", PAGES, ids=lambda url: "/" + url)
def test_figure_text_is_at_least_11px_everywhere(survey, site, figure_table, path):
    """Read from the page's survey, which measured every figure in each variant (``conftest._survey``)."""
    if not site.has_figures(path):
        pytest.skip("no figures on this page")
    seen = survey(path)
    measured = {ours: seen[theirs].figure_text for ours, theirs in SURVEYED_AS.items()}
    assert any(measured.values()), f"/{path} has figures, but the survey measured none"
    problems = report(path, measured, figure_table)
    assert problems == [], "\n".join(problems)


# ---------------------------------------------------------------- planted faults

def _svg(width_pt, height_pt, font_px, sub_px):
    """A white card with a label and a subscript (the SVG user unit is 1 pt, as in matplotlib's files)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_pt}pt" height="{height_pt}pt" '
            f'viewBox="0 0 {width_pt} {height_pt}"><rect width="100%" height="100%" fill="#fff"/>'
            f'<text x="10" y="{height_pt / 2}" style="font-size: {font_px}px">y = wx + b</text>'
            f'<text x="10" y="{height_pt - 5}" style="font-size: {font_px}px">a<tspan style="font-size: {sub_px}px">'
            f'0</tspan></text></svg>')


PLANTED = {
    "ok.svg": _svg(300, 120, 14, 12),  # 300 pt = 400 px fits a phone's column nearly unshrunk
    "tiny.svg": _svg(300, 120, 14, 6),  # a 6 pt subscript: 8 px on a desktop, less on a phone
    "wide-small.svg": _svg(560, 160, 14, 14),  # 747 px shrunk into a 327 px phone column: about 8 px
    "narrow.svg": _svg(250, 200, 14, 14),  # a phone rendering of wide-small.svg
    "scrolls.svg": _svg(900, 200, 16, 16),  # kept at 36rem on a phone by sitekit.figures: it scrolls
}
PAGES_PLANTED = {
    "index.md": "# Clean\n\n![a readable figure](ok.svg)\n",
    "tiny.md": "# Tiny\n\n![tiny text](tiny.svg)\n",
    # not alone in its paragraph, so sitekit.figures leaves it alone and a phone shrinks it
    "wide-small.md": "# Wide\n\nSee ![small on a phone](wide-small.svg)\n",
    "picture.md": '# Picture\n\n<picture><source media="(max-width: 44.9375em)" srcset="../narrow.svg">'
                  '<img alt="small on a phone, but a narrow rendering" src="../wide-small.svg"></picture>\n',
    "scrolls.md": "# Scrolls\n\n![a wide figure](scrolls.svg)\n",
    # for tests/browser/test_code_width.py: an 88-character line fits, a 95-character one scrolls
    "code.md": "# Code\n\n## With a table of contents\n\nAs on a chapter: the column is narrower.\n\n"
               "## Blocks\n\n```python\nx = " + "1 + " * 20 + "1234\n```\n\n"
               "!!! note\n\n    ```python\n    y = " + "2 + " * 20 + "2345\n    ```\n\n"
               "```python\nz = " + "3 + " * 22 + "345\n```\n",
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    import shutil

    import yaml
    from mkdocs.utils.yaml import yaml_load

    tmp = tmp_path_factory.mktemp("planted-figures")
    docs = tmp / "docs"
    shutil.copytree(ROOT / "docs" / "assets", docs / "assets")
    for name, text in {**PLANTED, **PAGES_PLANTED}.items():
        (docs / name).write_text(text, encoding="utf-8")
    with open(ROOT / "mkdocs.yml", encoding="utf-8") as handle:
        real = yaml_load(handle)
    theme = real["theme"] | ({"custom_dir": str(ROOT / real["theme"]["custom_dir"])} if "custom_dir" in real["theme"] else {})
    config = {"site_name": "Planted figures", "theme": theme, "extra_css": real["extra_css"],
              "markdown_extensions": real["markdown_extensions"], "plugins": [], "nav": list(PAGES_PLANTED)}
    (tmp / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False)
                                    + 'site_url: !ENV [SITE_URL, "http://127.0.0.1:8000/"]\n')
    with served(tmp / "mkdocs.yml", tmp) as site:
        yield site


def _problems(new_page, site, path):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    checks.load(page, site.url(path), site.origin)
    return view_all(page, path)


def test_planted_clean_figure_passes(new_page, planted):
    assert _problems(new_page, planted, "") == []


def test_planted_tiny_subscript_is_reported_at_every_width(new_page, planted):
    problems = _problems(new_page, planted, "tiny/")
    assert len(problems) == 4 and all("tiny.svg: text 'a0' renders at " in p for p in problems), problems
    assert "renders at 8.0px" in problems[0], "1280 px shows the figure at its natural size: 6 pt = 8 px"


def test_planted_figure_small_only_on_a_phone_is_reported(new_page, planted):
    problems = _problems(new_page, planted, "wide-small/")
    assert [p.split(":")[0] for p in problems] == ["375-dark", "375-light"], problems
    assert "wide-small.svg: text" in problems[0], problems


def test_planted_narrow_rendering_is_the_one_measured_on_a_phone(new_page, planted):
    page = new_page(viewport=checks.MOBILE, color_scheme="light")
    checks.load(page, planted.url("picture/"), planted.origin)
    assert [f.name for f in figtext.measure(page)] == ["narrow.svg"]
    checks.view_as(page, checks.DESKTOP, "light")
    assert [f.name for f in figtext.measure(page)] == ["wide-small.svg"]
    assert _problems(new_page, planted, "picture/") == []


def test_planted_scrolling_figure_without_a_cue_is_reported(new_page, planted):
    page = new_page(viewport=checks.MOBILE, color_scheme="light")
    checks.load(page, planted.url("scrolls/"), planted.origin)
    (seen,) = figtext.measure(page)
    assert seen.scrolls, "the planted figure must scroll on a phone"
    assert figtext.problems([seen]) == [], "extra.css shows a cue on a figure that scrolls"
    page.add_style_tag(content=".md-typeset .figure-scroll { background: none !important; }")
    assert figtext.problems(figtext.measure(page)) == ["scrolls.svg: scrolls sideways with no visible cue"]
