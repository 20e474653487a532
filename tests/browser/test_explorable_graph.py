"""The live graph (docs/assets/explorables/graph.js) on the built site, driven as a reader drives it.

Backpropagation (the seed network) and Autograd (preset expressions): a changed weight shows the
library's gradients, the backward pass walks node by node with the multiplying numbers named,
the SGD step lowers the loss to dismantle's value, keyboard alone operates it, every number is
text (a table for screen readers, an aria-live status), text stays >= 11 px on a 375 px phone,
reduced motion turns the transitions off, axe finds nothing serious, no request leaves the site,
the page budget holds, and without JavaScript the static figure is what the reader sees.
"""

import numpy as np
import pytest

import dismantle as dm
from dismantle.autograd import Tensor, _topological_order
from tests.browser import checks
from tests.browser.test_explorables import _tab_through, _without_javascript

SEED, PRESETS = "backpropagation/", "autograd/"
BOX = "[data-explorable=graph]"
BUDGET_KB = 400
MINIMUM_PX = 11.0
W = [[0.2, 0.1, 0.4], [0.5, 0.6, 0.1], [0.1, 0.7, 0.2]]


def _open(new_page, site, path, viewport=checks.DESKTOP, **options):
    page = new_page(viewport=viewport, color_scheme="light", **options)
    visit = checks.load(page, site.url(path), site.origin)
    page.wait_for_selector(f"{BOX}:not([hidden]) svg .graph-node")
    return page, visit


def _nodes(page):
    """{node name: (value, gradient or None)} as the page holds them (data attributes, full precision)."""
    return page.evaluate(f"""() => Object.fromEntries([...document.querySelectorAll('{BOX} .graph-node')].map(g =>
        [g.dataset.node, [+g.dataset.value, g.dataset.grad === '' ? null : +g.dataset.grad]]))""")


def _shown(page, name):
    """The value and gradient texts the reader sees in a node's box."""
    return page.evaluate(f"""() => [...document.querySelectorAll('{BOX} .graph-node[data-node={name}] text')]
        .slice(1).map(t => t.textContent)""")


def _library(x, W, b, y):
    """Every node of the seed network by dismantle.autograd: {name: (value, gradient)}."""
    tx, tW, tb = (Tensor(np.array(v, dtype=float), requires_grad=True) for v in ([x], W, b))
    z = tx @ tW.T + tb
    p = z.log_softmax().exp()
    loss = -(p[0, y].log())
    loss.backward()
    out = {"L": (float(loss.data), 1.0)}
    for i in range(3):
        out[f"x{i}"] = (tx.data[0, i], tx.grad[0, i])
        out[f"z{i}"], out[f"p{i}"], out[f"b{i}"] = ((z.data[0, i], z.grad[0, i]), (p.data[0, i], p.grad[0, i]),
                                                    (tb.data[i], tb.grad[i]))
        for k in range(3):
            out[f"W{i}{k}"] = (tW.data[i, k], tW.grad[i, k])
    return out


def _gap(page_nodes, library):
    assert set(page_nodes) == set(library)
    return max(max(abs(page_nodes[k][0] - v), abs(page_nodes[k][1] - g)) for k, (v, g) in library.items())


def _fmt(v):
    return f"{v:.4f}".replace("-", "−")


def test_changed_weight_shows_the_librarys_gradients(new_page, site):
    page, visit = _open(new_page, site, SEED)
    assert all(g is None for _, g in _nodes(page).values())  # no gradient before Backward
    page.get_by_role("button", name="Backward").click()
    x, b = [0.9, 0.5, 0.3], [0.1, 0.2, 0.1]
    assert _gap(_nodes(page), _library(x, W, b, 2)) <= 1e-12
    assert _shown(page, "W20") == ["0.1000", "−0.6292"]  # the chapter's W.grad[2, 0]
    page.focus("#graph-seed-in-W21")
    page.keyboard.press("ArrowUp")  # W21: 0.7 -> 0.8
    changed = [row[:] for row in W]
    changed[2][1] = 0.8
    library = _library(x, changed, b, 2)
    assert _gap(_nodes(page), library) <= 1e-12
    assert _shown(page, "W21") == ["0.8000", _fmt(library["W21"][1])]
    status = page.text_content("#graph-seed-status")
    assert f"∂L/∂W₂₁ = {_fmt(library['W21'][1])}" in status and _fmt(library["L"][0]) in status
    page.check("#graph-seed-y0")  # another label: L hangs from p0 now
    assert _gap(_nodes(page), _library(x, changed, b, 0)) <= 1e-12
    assert checks.load_problems(visit) == [] and checks.third_party_requests(visit) == []


def test_one_node_at_a_time_walks_the_backward_pass(new_page, site):
    page, _ = _open(new_page, site, SEED)
    page.get_by_role("button", name="One node at a time").click()
    active, narration = [], []
    for _ in range(5):
        page.get_by_role("button", name="Next node").click()
        active.append(page.evaluate(f"() => document.querySelector('{BOX} .graph-node.active').dataset.node"))
        narration.append(page.text_content("#graph-seed-status"))
        lit = page.locator(f"{BOX} .graph-edge.active").count()
        assert lit == {"L": 1, "p2": 3}.get(active[-1], 7), (active[-1], lit)  # the node's edges, no others
        if active[-1] == "z2":  # the boxes it hands to show the local derivative they are multiplied by
            assert _shown(page, "W20") == ["×0.9000", "−0.6292"] and _shown(page, "x0")[0] == "×0.1000"
    assert active == ["L", "p2", "z2", "z1", "z0"]  # reverse topological order; p0 and p1 are off L's path
    assert "∂L/∂L = 1.0000" in narration[0] and "1.0000 × −1/p₂ (−3.3230) = −3.3230" in narration[0]
    assert "to W₂₀: −0.6991 × x₀ (0.9000) = −0.6292" in narration[2]
    assert "to x₀: 0.2590 × W₀₀ (0.2000) = 0.0518, added to what was there: now 0.2019" in narration[4]
    assert page.is_disabled(f"{BOX} button:has-text('Next node')")
    walked = _nodes(page)
    page.get_by_role("button", name="Backward").click()
    assert walked == _nodes(page)  # the walk lands on Backward's numbers exactly


def test_sgd_step_lowers_the_loss_to_dismantles(new_page, site):
    page, _ = _open(new_page, site, SEED)
    before = float(page.get_attribute("#graph-seed-status", "data-loss"))
    page.get_by_role("button", name="SGD step").click()
    after = float(page.get_attribute("#graph-seed-status", "data-loss"))
    layer, loss_fn = dm.Linear(3, 3), dm.CrossEntropyLoss()
    layer.weight.data[...] = W
    layer.bias.data[...] = [0.1, 0.2, 0.1]
    x, y = np.array([[0.9, 0.5, 0.3]]), np.array([2])
    assert abs(before - loss_fn(layer(x), y)) <= 1e-12
    layer.backward(loss_fn.backward())
    dm.SGD(layer.parameters(), lr=0.5).step()
    assert abs(after - loss_fn(layer(x), y)) <= 1e-12 and after < before
    assert "it fell" in page.text_content("#graph-seed-status")
    assert page.input_value("#graph-seed-in-W20") == str(round(float(layer.weight.data[2, 0]), 4))


def test_keyboard_alone_operates_the_graph(new_page, site):
    page, _ = _open(new_page, site, SEED)
    seen = _tab_through(page, BOX)
    expected = ([f"graph-seed-in-{n}" for n in ["x0", "x1", "x2", "W00", "W01", "W02", "b0", "W10", "W11", "W12",
                                                 "b1", "W20", "W21", "W22", "b2"]]
                + ["graph-seed-y2", "graph-seed-lr", "Backward", "One node at a time", "SGD step", "Reset"])
    assert seen == expected, seen  # Next node is disabled until a walk starts
    page.focus("#graph-seed-in-x0")
    page.keyboard.press("ArrowDown")  # 0.9 -> 0.8: forward values follow
    assert _nodes(page)["x0"][0] == 0.8
    for _ in range(expected.index("One node at a time")):  # on from x0, by Tab alone
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "One node at a time"
    page.keyboard.press("Enter")  # starts the walk and hands focus to Next node
    assert page.evaluate("document.activeElement.textContent") == "Next node"
    for _ in range(5):
        page.keyboard.press("Enter")
    assert _nodes(page)["x0"][1] == pytest.approx(_library([0.8, 0.5, 0.3], W, [0.1, 0.2, 0.1], 2)["x0"][1], abs=1e-12)
    page.focus("#graph-seed-y2")
    page.keyboard.press("ArrowLeft")  # the radio group: label 1
    assert page.is_checked("#graph-seed-y1")
    problems = checks.axe_violations(page)
    assert problems == [], problems


def test_values_are_text_for_screen_readers(new_page, site):
    page, _ = _open(new_page, site, SEED)
    assert page.get_attribute("#graph-seed-status", "aria-live") == "polite"
    page.get_by_role("button", name="Backward").click()
    rows = page.evaluate(f"""() => [...document.querySelectorAll('{BOX} table tbody tr')]
        .map(r => [...r.children].map(c => c.textContent))""")
    assert ["W₂₀", "0.1000", "−0.6292"] in rows and ["L", "1.2009", "1.0000"] in rows and len(rows) == 22
    snapshot = page.locator(BOX).aria_snapshot()
    assert "−0.6292" in snapshot and "Backward" in snapshot  # the table is in the accessibility tree


_TEXT_SIZES_JS = """(box) => {
  const out = [];
  for (const t of document.querySelectorAll(box + ' svg text')) {
    if (t.closest('[visibility=hidden]')) continue;
    const m = t.getScreenCTM();
    out.push([t.textContent, parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b)]);
  }
  const walker = document.createTreeWalker(document.querySelector(box), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const e = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || e.closest('svg') || e.closest('.graph-sr')) continue;
    out.push([walker.currentNode.textContent.slice(0, 30), parseFloat(getComputedStyle(e).fontSize)]);
  }
  return out;
}"""


def _small_text(page):
    return [(text, round(px, 2)) for text, px in page.evaluate(_TEXT_SIZES_JS, BOX) if px < MINIMUM_PX]


@pytest.mark.parametrize("path", [SEED, PRESETS])
def test_text_stays_legible_on_a_phone(new_page, site, path):
    page, _ = _open(new_page, site, path, viewport=checks.MOBILE)
    page.get_by_role("button", name="One node at a time").click()
    page.get_by_role("button", name="Next node").click()  # the edge labels show too
    assert page.evaluate(_TEXT_SIZES_JS, BOX)
    assert _small_text(page) == []
    assert checks.overflow_problems(page) == []


def test_planted_small_text_is_seen(new_page, site):
    page, _ = _open(new_page, site, SEED, viewport=checks.MOBILE)
    page.add_style_tag(content=".graph-plot text { font-size: 12px; }")  # 12 SVG units: under 11 px at 375 px
    assert _small_text(page) != []


def _transition(page):
    return page.evaluate(f"() => getComputedStyle(document.querySelector('{BOX} .graph-node rect')).transitionDuration")


def test_reduced_motion_turns_the_transitions_off(new_page, site):
    page, _ = _open(new_page, site, SEED)
    assert _transition(page) != "0s"  # the check can see a transition when there is one
    still, _ = _open(new_page, site, SEED, reduced_motion="reduce")
    assert _transition(still) == "0s"
    shot = still.locator(BOX).screenshot()
    still.wait_for_timeout(600)
    assert still.locator(BOX).screenshot() == shot  # and nothing moves on its own


@pytest.mark.parametrize("path", [SEED, PRESETS])
def test_without_javascript_the_static_figure_shows(new_page, site, path):
    assert _without_javascript(new_page, site, path) == []


def test_planted_shown_box_is_seen_without_javascript(new_page, site):
    plant = lambda html: html.replace('data-graph="seed" hidden', 'data-graph="seed"')  # noqa: E731
    assert _without_javascript(new_page, site, SEED, plant) != []


@pytest.mark.parametrize("path", [SEED, PRESETS])
def test_graph_page_stays_within_budget(new_page, site, path):
    page, visit = _open(new_page, site, path)
    weights = visit.weights()
    kb = {k: round(v / 1024, 1) for k, v in weights.items()}
    print(f"/{path}: {kb}")
    assert weights["total"] < BUDGET_KB * 1024, f"cold load of /{path} transfers {kb}"
    assert checks.load_problems(visit) == [] and checks.third_party_requests(visit) == []
    problems = checks.axe_violations(page)
    assert problems == [], problems


@pytest.mark.parametrize("path", [SEED, PRESETS])
def test_reached_by_instant_navigation_the_graph_starts(new_page, site, path):
    page = new_page(viewport=checks.DESKTOP, color_scheme="light")
    visit = checks.load(page, site.url(""), site.origin)
    assert checks.navigate_instantly(page, visit, site.url(path), site.title(path)) == []
    page.wait_for_selector(f"{BOX}:not([hidden]) .graph-node")
    assert checks.load_problems(visit) == [] and checks.third_party_requests(visit) == []


# ---------------------------------------------------------------- the Autograd chapter's presets

def _preset_order(name):
    """dismantle.autograd's topological order of the preset, as labels."""
    if name == "square":
        x = Tensor(3.0, requires_grad=True)
        m = x * x
        f = m + x
        return [{id(x): "x", id(m): "x·x", id(f): "f"}[id(t)] for t in _topological_order(f)]
    two, x, minus, one = Tensor(2.0), Tensor(0.5, requires_grad=True), Tensor(-1.0), Tensor(1.0)
    u = two * x
    e = u.exp()
    num, den = e + minus, e + one
    t = num / den
    labels = {id(two): "2", id(x): "x", id(u): "2x", id(e): "e", id(minus): "−1", id(one): "1", id(num): "e − 1",
              id(den): "e + 1", id(t): "t"}
    return [labels[id(n)] for n in _topological_order(t)]


def test_presets_show_the_order_and_the_accumulation(new_page, site):
    page, visit = _open(new_page, site, PRESETS)
    order = page.text_content("#graph-presets-order")
    assert order == f"Topological order: {', '.join(_preset_order('square'))}. Backward walks it from the end."
    page.get_by_role("button", name="One node at a time").click()
    page.get_by_role("button", name="Next node").click()  # f: 1 to x·x, 1 to x
    page.get_by_role("button", name="Next node").click()  # x·x: 3 to x twice, each added
    narration = page.text_content("#graph-presets-status")
    assert "to x: 1.0000 × x (3.0000) = 3.0000, added to what was there: now 4.0000" in narration
    assert "now 7.0000" in narration  # 1 + 3 + 3 = 2x + 1
    assert _nodes(page)["x"] == [3.0, 7.0]
    assert page.locator(f"{BOX} .graph-edge.active").count() == 2  # the two edges from x into x·x
    page.focus("#graph-presets-square")
    page.keyboard.press("ArrowDown")  # one neuron
    page.keyboard.press("ArrowDown")  # tanh from exp
    assert page.is_checked("#graph-presets-tanh")
    order = page.text_content("#graph-presets-order")
    assert order == f"Topological order: {', '.join(_preset_order('tanh'))}. Backward walks it from the end."
    page.get_by_role("button", name="Backward").click()
    nodes = _nodes(page)
    assert abs(nodes["x"][1] - (1 - np.tanh(0.5) ** 2)) <= 1e-12 and nodes["two"][1] is None  # a constant
    page.focus("#graph-presets-in-x")
    page.keyboard.press("ArrowUp")  # 0.5 -> 0.6
    assert abs(_nodes(page)["x"][1] - (1 - np.tanh(0.6) ** 2)) <= 1e-12
    assert checks.load_problems(visit) == [] and checks.third_party_requests(visit) == []
    problems = checks.axe_violations(page)
    assert problems == [], problems
