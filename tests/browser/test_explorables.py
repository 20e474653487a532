"""The explorables on the built site, driven as a reader drives them (docs/assets/explorables).

The bowl (Gradient descent with SGD alone, Adaptive steps with SGD and Adam) and the playground
(Training): the controls change what is drawn, the speed-limit mark shows where a limit applies,
keyboard alone reaches and operates every control, training makes the loss fall (and its first
loss is dismantle's), nothing moves for a reader who asks for reduced motion until Play is
pressed, axe finds nothing serious, no request leaves the site, the page budget holds, and
without JavaScript the static figures are what the reader sees.
"""

import numpy as np
import pytest

import dismantle as dm
from tests.browser import checks

BOWL, ADAM_BOWL, PLAYGROUND = "gradient-descent/", "adam/", "training/"
BUDGET_KB = 400
CONTROLS = "input, button"


def _open(new_page, site, path, **options):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light", **options)
    visit = checks.load(page, site.url(path), site.origin)
    page.wait_for_selector(f"[data-explorable={'playground' if path == PLAYGROUND else 'bowl'}]:not([hidden])")
    return page, visit


def _bowl_state(page):
    return page.evaluate("""() => ({points: document.querySelector('.explorable .walk').getAttribute('points'),
        result: document.querySelector('#bowl-result').textContent})""")


def _steps(page):
    return int(page.locator("[data-explorable=playground] .explorable-result").get_attribute("data-steps"))


def _loss(page):
    return float(page.locator("[data-explorable=playground] .explorable-result").get_attribute("data-loss"))


def test_bowl_slider_changes_the_path_and_the_value(new_page, site):
    page, visit = _open(new_page, site, BOWL)
    before = _bowl_state(page)
    assert before["result"] == "f after 30 steps = 0.01819"  # the chapter's lr 0.1: f after 30 steps = 0.0182
    page.focus("#bowl-lr")
    page.keyboard.press("ArrowRight")
    after = _bowl_state(page)
    assert page.input_value("#bowl-lr") == "0.105" and page.text_content("#bowl-lr-value") == "0.105"
    assert after["points"] != before["points"] and after["result"] != before["result"]
    assert checks.load_problems(visit) == [] and checks.third_party_requests(visit) == []


def test_bowl_past_the_speed_limit_diverges_and_stops_at_the_frame(new_page, site):
    page, _ = _open(new_page, site, BOWL)
    page.focus("#bowl-lr")
    page.keyboard.press("End")  # 0.3, past 2/a = 0.2
    page.focus("#bowl-steps")
    page.keyboard.press("End")  # 100 steps
    state = _bowl_state(page)
    assert "Diverged" in state["result"] or "left the picture" in state["result"], state["result"]
    points = np.array([[float(v) for v in p.split(",")] for p in state["points"].split()])
    assert np.isfinite(points).all() and len(points) < 101
    inside = (np.abs(points[:, 0]) <= 5) & (np.abs(points[:, 1]) <= 2.4)
    assert inside[:-1].all() and not inside[-1]  # drawn up to the first point off the picture, no further
    assert "NaN" not in page.inner_text("[data-explorable=bowl]")


def test_playground_play_trains_and_the_loss_falls(new_page, site):
    page, visit = _open(new_page, site, PLAYGROUND)
    page.get_by_role("button", name="Step").click()
    first = _loss(page)
    x, y = dm.make_spirals(100, noise=0.1, rng=np.random.default_rng(0))
    rng = np.random.default_rng(0)
    model = dm.Sequential(dm.Linear(2, 8, rng=rng), dm.ReLU(), dm.Linear(8, 8, rng=rng), dm.ReLU(),
                          dm.Linear(8, 2, rng=rng))
    assert abs(first - dm.CrossEntropyLoss()(model(x), y)) <= 1e-12  # the page starts where dismantle starts
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => +document.querySelector('[data-explorable=playground] .explorable-result').dataset.steps >= 300")
    page.get_by_role("button", name="Pause").click()
    assert _loss(page) < 0.5 * first
    assert checks.load_problems(visit) == [] and checks.third_party_requests(visit) == []


def _tab_through(page, box):
    """Tab from just before ``box`` until focus leaves it; the ids (or names) of what took focus."""
    page.evaluate("""(box) => { const b = document.createElement('button'); b.id = 'before-explorable';
        b.textContent = 'before'; document.querySelector(box).before(b); b.focus(); }""", box)
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        here = page.evaluate(f"""() => {{ const a = document.activeElement;
            return a.closest('{box}') ? (a.id || (a.name ? a.name + ':' + a.value : a.textContent)) : null; }}""")
        if here is None:
            break
        seen.append(here)
    return seen


def _limit(page):
    """The speed-limit note, and the mark's place on the learning-rate track (None when hidden)."""
    return page.evaluate("""() => { const m = document.querySelector('[data-explorable=bowl] .speed-limit');
        return {note: document.querySelector('#bowl-limit').textContent,
                at: m.hidden ? null : +m.style.getPropertyValue('--at')}; }""")


def test_bowl_speed_limit_follows_momentum_and_nesterov(new_page, site):
    page, _ = _open(new_page, site, BOWL)
    assert _limit(page) == {"note": "Speed limit 2/a = 0.2, marked", "at": (0.2 - 0.005) / (0.3 - 0.005)}
    page.focus("#bowl-momentum")
    for _ in range(6):
        page.keyboard.press("ArrowRight")  # momentum 0.3: 2 (1.3) / 10 = 0.26
    assert _limit(page) == {"note": "Speed limit 2(1 + μ)/a = 0.26, marked", "at": (0.26 - 0.005) / (0.3 - 0.005)}
    page.check("#bowl-nesterov")  # 2 (1.3) / (1.6 * 10) = 0.1625
    limit = _limit(page)
    assert limit["note"] == "Speed limit 2(1 + μ)/((1 + 2μ) a) = 0.163, marked"
    assert abs(limit["at"] - (0.1625 - 0.005) / (0.3 - 0.005)) < 1e-12
    page.uncheck("#bowl-nesterov")
    page.focus("#bowl-momentum")
    for _ in range(5):
        page.keyboard.press("ArrowRight")  # momentum 0.55: 2 (1.55) / 10 = 0.31, past 0.3
    assert _limit(page) == {"note": "Speed limit 2(1 + μ)/a = 0.31, past the slider's end", "at": None}


def test_adam_has_no_speed_limit_mark(new_page, site):
    page, _ = _open(new_page, site, ADAM_BOWL)
    assert _limit(page)["note"] == "Speed limit 2/a = 0.2, marked"
    page.check("#bowl-adam")
    assert _limit(page) == {"note": "Adam has no speed limit: its step is about η whatever the slope", "at": None}


def test_keyboard_alone_operates_the_bowl(new_page, site):
    page, _ = _open(new_page, site, BOWL)
    box = "[data-explorable=bowl]"
    seen = _tab_through(page, box)
    assert seen == ["bowl-x0", "bowl-y0", "bowl-lr", "bowl-momentum", "bowl-steps"], seen  # SGD alone: no radios
    for slider in ["bowl-x0", "bowl-y0", "bowl-lr", "bowl-momentum", "bowl-steps"]:
        page.focus(f"#{slider}")
        before = _bowl_state(page)
        page.keyboard.press("ArrowRight")
        assert _bowl_state(page) != before, f"{slider} moved by the keyboard changed nothing"
    assert _tab_through(page, box)[-1] == "bowl-nesterov"  # momentum > 0: the Nesterov switch is in reach
    page.focus("#bowl-nesterov")
    before = _bowl_state(page)
    page.keyboard.press("Space")
    assert page.is_checked("#bowl-nesterov") and _bowl_state(page) != before
    problems = checks.axe_violations(page)
    assert problems == [], problems


def test_keyboard_alone_operates_the_adam_bowl(new_page, site):
    page, _ = _open(new_page, site, ADAM_BOWL)
    box = "[data-explorable=bowl]"
    assert _tab_through(page, box) == ["bowl-sgd", "bowl-x0", "bowl-y0", "bowl-lr", "bowl-momentum", "bowl-steps"]
    page.focus("#bowl-sgd")
    page.keyboard.press("ArrowRight")  # radio group: the arrow keys choose Adam
    assert page.is_checked("#bowl-adam")
    assert _tab_through(page, box) == ["bowl-adam", "bowl-x0", "bowl-y0", "bowl-lr", "bowl-beta1", "bowl-beta2",
                                       "bowl-steps"]
    for slider in ["bowl-beta1", "bowl-beta2"]:
        page.focus(f"#{slider}")
        before = _bowl_state(page)
        page.keyboard.press("ArrowLeft")
        assert _bowl_state(page) != before, f"{slider} moved by the keyboard changed nothing"
    problems = checks.axe_violations(page)
    assert problems == [], problems


def test_keyboard_alone_operates_the_playground(new_page, site):
    page, _ = _open(new_page, site, PLAYGROUND)
    box = "[data-explorable=playground]"
    seen = _tab_through(page, box)
    assert seen == ["playground-width:8", "playground-act:relu", "playground-lr", "Play", "Step", "Reset"], seen
    page.keyboard.press("Shift+Tab")  # focus has left the box: back to Reset,
    page.keyboard.press("Shift+Tab")  # then to Step
    page.keyboard.press("Enter")
    assert _steps(page) == 1
    page.keyboard.press("Shift+Tab")  # Play
    page.keyboard.press("Space")
    page.wait_for_function(f"() => +document.querySelector('{box} .explorable-result').dataset.steps >= 20")
    page.keyboard.press("Space")  # Pause
    assert page.get_attribute(f"{box} button[aria-pressed]", "aria-pressed") == "false"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # Reset
    page.keyboard.press("Enter")
    assert _steps(page) == 0
    page.focus("#playground-lr")
    page.keyboard.press("ArrowRight")
    assert page.input_value("#playground-lr") == "0.11" and "0.11" in page.inner_text(box)
    page.focus(f"{box} input[name=playground-width]:checked")
    page.keyboard.press("ArrowRight")
    assert page.is_checked(f"{box} input[name=playground-width][value='16']")
    page.focus(f"{box} input[name=playground-act]:checked")
    page.keyboard.press("ArrowLeft")
    assert page.is_checked(f"{box} input[name=playground-act][value=tanh]")
    problems = checks.axe_violations(page)
    assert problems == [], problems


def _still(page, box, ms=800):
    shot = page.locator(box).screenshot()
    page.wait_for_timeout(ms)
    return page.locator(box).screenshot() == shot


def test_with_reduced_motion_nothing_moves_until_play(new_page, site):
    page, _ = _open(new_page, site, PLAYGROUND, reduced_motion="reduce")
    box = "[data-explorable=playground]"
    assert _still(page, box) and _steps(page) == 0
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => +document.querySelector('{box} .explorable-result').dataset.steps >= 20")
    bowl, _ = _open(new_page, site, BOWL, reduced_motion="reduce")
    assert _still(bowl, "[data-explorable=bowl]")


def _no_javascript_problems(page):
    """What a reader without JavaScript would miss: a static figure not shown, or an explorable's empty box."""
    problems = []
    figures = page.locator("article img[src$='.svg']:not(details img)")  # a closed exercise hides its own
    if figures.count() == 0:
        problems.append("no static figure on the page")
    for k in range(figures.count()):
        figure = figures.nth(k)
        figure.scroll_into_view_if_needed()
        if not (figure.is_visible() and figure.evaluate("i => i.complete && i.naturalWidth > 0")):
            problems.append(f"figure {figure.get_attribute('src')} is not shown")
    shown = page.locator("[data-explorable]:not([hidden])").count()
    if shown:
        problems.append(f"{shown} explorable box(es) not hidden, with nothing to fill them")
    return problems


def _without_javascript(new_page, site, path, change=None):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light", java_script_enabled=False)
    if change:  # a planted fault: the served page altered
        page.route(site.url(path), lambda route: route.fulfill(response=route.fetch(), body=change(route.fetch().text())))
    page.goto(site.url(path))
    return _no_javascript_problems(page)


@pytest.mark.parametrize("path", [BOWL, ADAM_BOWL, PLAYGROUND])
def test_without_javascript_the_static_figures_show(new_page, site, path):
    assert _without_javascript(new_page, site, path) == []


@pytest.mark.parametrize("path", [BOWL, ADAM_BOWL, PLAYGROUND])
def test_reached_by_instant_navigation_the_explorable_starts(new_page, site, path):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    visit = checks.load(page, site.url(""), site.origin)
    assert checks.navigate_instantly(page, visit, site.url(path), site.title(path)) == []
    page.wait_for_selector("[data-explorable]:not([hidden]) .explorable-result")
    assert checks.load_problems(visit) == [] and checks.third_party_requests(visit) == []


@pytest.mark.parametrize("path", [BOWL, ADAM_BOWL, PLAYGROUND])
def test_page_with_explorable_stays_within_budget(new_page, site, path):
    page, visit = _open(new_page, site, path)
    weights = visit.weights()
    kb = {k: round(v / 1024, 1) for k, v in weights.items()}
    print(f"/{path}: {kb}")
    assert weights["total"] < BUDGET_KB * 1024, f"cold load of /{path} transfers {kb}"
    assert checks.third_party_requests(visit) == []


# ---------------------------------------------------------------- planted faults: the checks above can fail

def test_planted_motion_is_seen_by_the_stillness_check(new_page, site):
    page, _ = _open(new_page, site, PLAYGROUND, reduced_motion="reduce")
    page.evaluate("document.querySelector('[data-explorable=playground] button[aria-pressed]').click()")  # autoplay
    assert not _still(page, "[data-explorable=playground]")


def test_planted_unreachable_control_is_seen_by_the_tab_walk(new_page, site):
    page, _ = _open(new_page, site, BOWL)
    page.evaluate("document.querySelector('#bowl-lr').tabIndex = -1")  # a slider the keyboard cannot reach
    assert "bowl-lr" not in _tab_through(page, "[data-explorable=bowl]")


NO_JS_PLANTS = {
    "box shown": lambda html: html.replace('data-optimizers="sgd" hidden', 'data-optimizers="sgd"'),
    "figure gone": lambda html: html.replace("figures/gradient-descent-paths.svg", "figures/missing.svg"),
}


@pytest.mark.parametrize("plant", NO_JS_PLANTS)
def test_planted_no_javascript_faults_are_seen(new_page, site, plant):
    assert _without_javascript(new_page, site, BOWL, NO_JS_PLANTS[plant]) != []
