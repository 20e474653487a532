"""The site as a GitHub Pages project site: served under a sub-path, with a 404 page for any missing URL.

The suite's server (``conftest.served``) serves every site under ``BASE``, so every page check
of ``test_pages``/``test_interaction`` already runs there. This file adds what only a
sub-path shows: no reference on any page leaves it or points at nothing, and a missing deep
URL gets the site's own 404 page, styled, with a way home. Each check is shown failing on a
planted fault (a hand-written site below; a site built for the root in ``test_planted``).
"""

from tests.browser import checks


def test_no_link_escapes_the_sub_path_and_none_is_broken(site, book, report_links):  # book: the PDF the site links
    report = checks.link_report(site.root, site.url())
    report_links(report.summary())
    assert report.pages >= 10 and report.internal > 100, report.summary()
    assert report.escaping == [], "\n".join(report.escaping[:20])
    assert report.broken == [], "\n".join(report.broken[:20])


def test_a_missing_deep_url_gets_the_styled_404_page_with_a_link_home(new_page, site):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    visit = checks.load(page, site.url("chapters/that/do/not/exist/"), site.origin)
    assert checks.not_found_problems(page, visit, site.url()) == []
    page.locator("a.md-header__button.md-logo").click()  # the header's link home
    page.wait_for_function("url => location.href === url", arg=site.url())
    assert page.title() == site.title(""), "the link home did not reach the home page"


# ---------------------------------------------------------------- the link checker sees planted faults

PLANTED = {
    "index.html": '<a href="loss/">ok</a> <a href="loss/#rate">ok anchor</a> <a href="#top">ok</a>'
                  '<img src="figures/a.svg"> <a href="https://example.org/x">elsewhere</a>'
                  '<a href="/loss/">root-absolute</a> <a href="missing/">gone</a>'
                  '<a href="loss/#nope">no anchor</a> <a href="#none">no anchor here</a>'
                  '<h1 id="top">t</h1>',
    "loss/index.html": '<h2 id="rate">r</h2><a href="../">home</a><a href="../../">above the site</a>'
                       '<link rel="stylesheet" href="../assets/site.css">',
    "assets/site.css": "@font-face { src: url(fonts/f.woff2) } .x { background: url('../figures/gone.png') }",
    "assets/fonts/f.woff2": "",
    "figures/a.svg": "<svg/>",
    "404.html": '<link rel="stylesheet" href="assets/site.css"><a href="/dismantling-neural-networks/">home</a>',
}


def test_link_report_finds_each_planted_fault(tmp_path):
    for name, text in PLANTED.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    report = checks.link_report(tmp_path, "http://127.0.0.1:8000/dismantling-neural-networks/")
    assert sorted(report.escaping) == ["index.html: /loss/ -> /loss/", "loss/index.html: ../../ -> /"]
    assert sorted(report.broken) == [
        "404.html: assets/site.css -> /dismantling-neural-networks/no/such/page/at/depth/assets/site.css"
        " (no such file)",
        "assets/site.css: ../figures/gone.png -> /dismantling-neural-networks/figures/gone.png (no such file)",
        "index.html: #none -> no such id on the page",
        "index.html: loss/#nope -> no id 'nope' on loss/index.html",
        "index.html: missing/ -> /dismantling-neural-networks/missing/ (no such file)",
    ]
    assert report.external == {"https://example.org/x"}
    assert report.pages == 3
