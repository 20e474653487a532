"""Figures for the Backpropagation chapter: the MLP's computational graph, values forward, gradients back."""

import numpy as np
from figstyle import DESKTOP_IN, MIN_PT, PHONE_IN, canvas, with_narrow
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import dismantle as dm
from dismantle import functional as F

BLUE, ORANGE, TEAL, GREY = "#3949ab", "#e65100", "#00897b", "#555555"

X = np.array([[0.9, 0.5, 0.3]])
Y = np.array([2])
W1 = np.array([[-0.3, 0.2, 0.1], [0.4, 0.3, -0.2]])
B1 = np.array([0.1, -0.1])
W2 = np.array([[0.5, -0.4], [0.3, 0.8], [-0.6, 0.2]])
B2 = np.array([0.0, 0.1, -0.1])


def network():
    """Linear(3, 2), ReLU, Linear(2, 3) with the figure's weights, and a cross-entropy loss."""
    net = dm.Sequential(dm.Linear(3, 2, rng=np.random.default_rng(0)), dm.ReLU(), dm.Linear(2, 3, rng=np.random.default_rng(1)))
    for layer, w, b in ((net[0], W1, B1), (net[2], W2, B2)):
        layer.weight.data[...], layer.bias.data[...] = w, b
    return net, dm.CrossEntropyLoss()


def trace():
    """Every forward value and every gradient of the graph, by name."""
    net, loss_fn = network()
    z1 = net[0](X)
    h = net[1](z1)
    z2 = net[2](h)
    loss = loss_fn(z2, Y)
    g_z2 = loss_fn.backward()
    g_h = net[2].backward(g_z2)
    g_z1 = net[1].backward(g_h)
    g_x = net[0].backward(g_z1)
    return {
        "x": (X, g_x), "z1": (z1, g_z1), "h": (h, g_h), "z2": (z2, g_z2), "L": (loss, 1.0),
        "W1": (W1, net[0].weight.grad), "b1": (B1, net[0].bias.grad),
        "W2": (W2, net[2].weight.grad), "b2": (B2, net[2].bias.grad),
    }


def _fmt(a):
    """A vector or matrix as rows of 2-decimal numbers, ``[0.90 0.50 0.30]`` (no commas: less width)."""
    a = np.atleast_1d(np.asarray(a, dtype=float))
    if a.ndim == 2 and a.shape[0] == 1:
        a = a[0]
    rows = a if a.ndim == 2 else [a]
    return "\n".join("[" + " ".join(f"{v:.2f}" for v in row + 0.0) + "]" for row in rows)


def _box(ax, xy, text, color, width, height=34):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=2",
                                facecolor="white", edgecolor=color, linewidth=1.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=10.5, linespacing=1.1)


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=GREY, linewidth=1.4,
                                 shrinkA=0, shrinkB=0))


# Edges left to right: (key in trace, symbol, width of its widest label in points, gap to the next label).
EDGES = [("x", "x", 96, 18), ("z1", "z₁", 70, 8), ("h", "h", 70, 18), ("z2", "z₂", 96, 18), ("L", "L", 62, 0)]
NODES = [("x", BLUE, 24), ("Linear₁\nx W₁ᵀ + b₁", TEAL, 64), ("ReLU", TEAL, 40), ("Linear₂\nh W₂ᵀ + b₂", TEAL, 64),
         ("Cross-\nentropy", TEAL, 54), ("L", BLUE, 24)]


def _bottom(ax, text, renderer):
    """The lowest y (data units) of a drawn text."""
    return ax.transData.inverted().transform(text.get_window_extent(renderer))[:, 1].min()


def draw_graph(fig, narrow=False):
    """Left to right: x, Linear, ReLU, Linear, cross-entropy, L; values above the edges, gradients below.

    Axis units are points (the SVG's own unit), 7 inches wide so that the desktop column shows
    it unshrunk. Each edge's labels are centred over its arrow and spaced by their widths; each
    node sits in the gap between its two edges' labels, so the parameters' arrows pass between.
    A phone gets the same graph in three rows (``_draw_graph_rows``).
    """
    if narrow:
        return _draw_graph_rows(fig)
    width, height = 504, 372
    ax = canvas(fig, width, height, per_inch=72)
    t = trace()
    row, half = 112, 19  # the main row, and half a box height plus its padding
    centres = [EDGES[0][2] / 2 + 22]
    for (_, _, w, gap), (_, _, w_next, _) in zip(EDGES, EDGES[1:]):
        centres.append(centres[-1] + w / 2 + gap + w_next / 2)
    xs = [centres[0] - 30]
    for (_, _, w, gap), c in zip(EDGES, centres):
        xs.append(c + w / 2 + gap / 2 if gap else c + 40)
    for x, (label, color, w) in zip(xs, NODES):
        _box(ax, (x, row), label, color, w)
    for (key, sym, _, _), c, a, b, (_, _, wa), (_, _, wb) in zip(EDGES, centres, xs, xs[1:], NODES, NODES[1:]):
        _arrow(ax, (a + wa / 2 + 3, row), (b - wb / 2 - 3, row))
        value, grad = t[key]
        value_text = f"{value:.4f}" if key == "L" else _fmt(value)
        grad_text = "1" if key == "L" else _fmt(grad)
        ax.text(c, row + half + 5, f"{sym} =\n{value_text}", ha="center", va="bottom", fontsize=10, color=BLUE)
        ax.text(c, row - half - 5, f"∂L/∂{sym} =\n{grad_text}", ha="center", va="top", fontsize=10, color=ORANGE)
    renderer = fig._get_renderer()
    for x, w, b, sub in ((xs[1], "W1", "b1", "₁"), (xs[3], "W2", "b2", "₂")):
        block = ax.text(x, 322, f"W{sub} =\n{_fmt(t[w][0])}\nb{sub} = {_fmt(t[b][0])}", ha="center", va="top",
                        fontsize=10, color=BLUE, linespacing=1.15)
        below = _bottom(ax, block, renderer) - 6
        grads = ax.text(x, below, f"∂L/∂W{sub} =\n{_fmt(t[w][1])}\n∂L/∂b{sub} = {_fmt(t[b][1])}", ha="center",
                        va="top", fontsize=10, color=ORANGE, linespacing=1.15)
        _arrow(ax, (x, _bottom(ax, grads, renderer) - 4), (x, row + half))
    _box(ax, (xs[4], 208), f"label\ny = {Y[0]}", BLUE, 50, height=30)
    _arrow(ax, (xs[4], 190), (xs[4], row + half))
    ax.text(6, 356, "Forward values (blue) flow to the right;\ngradients ∂L/∂· (orange) flow back to the left.",
            ha="left", va="center", fontsize=10.5, color="#222222", linespacing=1.15)
    ax.text(6, 20, f"ReLU's first unit is off (z₁ = {t['z1'][0][0, 0]:.2f} < 0), so no gradient flows through it: "
            "the first row\nof ∂L/∂W₁ is zero. Every gradient has the shape of the value it belongs to.",
            ha="left", va="center", fontsize=10, color="#222222", linespacing=1.15)


# Three rows for a phone: each row starts with the node the previous row ended on (drawn again,
# dashed). Per row: nodes (index into NODES, x in points) and edges (index into EDGES, label centre).
ROWS = [
    ([(0, 14), (1, 136), (2, 222)], [(0, 70), (1, 184)]),
    ([(2, 22), (3, 122), (4, 226)], [(2, 72), (3, 175)]),
    ([(4, 31), (5, 150)], [(4, 100)]),
]


def _draw_graph_rows(fig):
    """The graph of ``draw_graph`` in three rows 256 points wide, parameters above their layers."""
    width, height = 256, 790
    ax = canvas(fig, width, height, per_inch=72)
    t, renderer, half = trace(), fig._get_renderer(), 19
    ax.text(4, height - 6, "Forward values (blue) flow to the right;\ngradients ∂L/∂· (orange) flow back.",
            ha="left", va="top", fontsize=10, color="#222222", linespacing=1.15)
    top = height - 46
    for nodes, edges in ROWS:
        above = top  # parameters (or the label) over this row's layers
        arrows = []
        for k, x in nodes:
            if k in (1, 3):
                w, b, sub = ("W1", "b1", "₁") if k == 1 else ("W2", "b2", "₂")
                block = ax.text(x, top, f"W{sub} =\n{_fmt(t[w][0])}\nb{sub} = {_fmt(t[b][0])}", ha="center",
                                va="top", fontsize=10, color=BLUE, linespacing=1.15)
                grads = ax.text(x, _bottom(ax, block, renderer) - 6,
                                f"∂L/∂W{sub} =\n{_fmt(t[w][1])}\n∂L/∂b{sub} =\n{_fmt(t[b][1])}", ha="center", va="top",
                                fontsize=10, color=ORANGE, linespacing=1.15)
                arrows.append((x, _bottom(ax, grads, renderer) - 4))
                above = min(above, arrows[-1][1])
            if k == 4 and len(nodes) == 3:
                _box(ax, (x, top - 18), f"label\ny = {Y[0]}", BLUE, 50, height=30)
                arrows.append((x, top - 36))
        row = above - 58 - half
        for x, start in arrows:
            _arrow(ax, (x, start), (x, row + half))
        for i, (k, x) in enumerate(nodes):
            label, color, w = NODES[k]
            _box(ax, (x, row), label, color, w)
            if i == 0 and k:  # the node the previous row ended on
                ax.patches[-1].set_linestyle((0, (3, 2)))
        for (k, c), (ka, xa), (kb, xb) in zip(edges, nodes, nodes[1:]):
            key, sym, _, _ = EDGES[k]
            _arrow(ax, (xa + NODES[ka][2] / 2 + 3, row), (xb - NODES[kb][2] / 2 - 3, row))
            value, grad = t[key]
            value_text = f"{value:.4f}" if key == "L" else _fmt(value)
            ax.text(c, row + half + 5, f"{sym} =\n{value_text}", ha="center", va="bottom", fontsize=10, color=BLUE)
            ax.text(c, row - half - 5, f"∂L/∂{sym} =\n{'1' if key == 'L' else _fmt(grad)}", ha="center", va="top",
                    fontsize=10, color=ORANGE)
        top = row - half - 48
    ax.text(4, 6, f"ReLU's first unit is off (z₁ = {t['z1'][0][0, 0]:.2f} < 0),\nso no gradient flows through "
            "it: the\nfirst row of ∂L/∂W₁ is zero. Every gradient\nhas the shape of the value it belongs to.\n"
            "A dashed box continues the row above.", ha="left", va="bottom", fontsize=10, color="#222222", linespacing=1.15)


# ---------------------------------------------------------------- one neuron's chain (rule 3)

CHAIN = dict(x=0.9, w=0.2, b=0.1, t=1.0)  # the page's one-input neuron, rules 2 and 3


def chain():
    """Forward values, local derivatives and gradients of z = wx + b, a = sigma(z), L = (a - t)^2."""
    x, w, b, t = CHAIN.values()
    z = w * x + b
    a = float(F.sigmoid(np.array([z]))[0])
    loss = (a - t) ** 2
    local = {"dz/dx": w, "dz/dw": x, "dz/db": 1.0, "da/dz": float(F.sigmoid_prime(np.array([z]))[0]),
             "dL/da": 2 * (a - t)}
    grads = {"L": 1.0, "a": local["dL/da"]}
    grads["z"] = grads["a"] * local["da/dz"]
    grads |= {"x": grads["z"] * local["dz/dx"], "w": grads["z"] * local["dz/dw"], "b": grads["z"] * local["dz/db"]}
    return {"x": x, "w": w, "b": b, "t": t, "z": z, "a": a, "L": loss}, local, grads


def draw_chain(fig, narrow=False):
    """x -> z -> a -> L: each box holds its value (blue) and gradient (orange), each arrow its local derivative.

    Left to right on a desktop, top to bottom on a phone; axis units are inches.
    """
    v, d, g = chain()
    width, height = (PHONE_IN, 6.4) if narrow else (DESKTOP_IN - 0.2, 2.5)
    ax = canvas(fig, width, height)
    nodes = [("x", "x"), ("z", "z = wx + b"), ("a", "a = σ(z)"), ("L", "L = (a − t)²")]
    arrows = [f"∂z/∂x = w\n= {d['dz/dx']:g}", f"∂a/∂z = σ′(z)\n= {d['da/dz']:.4f}",
              f"∂L/∂a = 2(a − t)\n= {d['dL/da']:.4f}"]
    bw, bh = (1.4, 0.82) if narrow else (1.3, 0.82)
    where = [(0.85, 5.95 - 1.3 * k) if narrow else (0.75 + 1.75 * k, 1.45) for k in range(4)]
    for (name, head), (x, y) in zip(nodes, where):
        ax.add_patch(FancyBboxPatch((x - bw / 2, y - bh / 2), bw, bh, boxstyle="round,pad=0.03", facecolor="white",
                                    edgecolor=BLUE if name == "x" else TEAL, linewidth=1.6))
        value = f"{v[name]:g}" if name == "x" else f"{v[name]:.4f}"
        ax.text(x, y + 0.2, head, ha="center", va="center", fontsize=MIN_PT + 1, color="#222222")
        ax.text(x, y, value, ha="center", va="center", fontsize=MIN_PT + 1, color=BLUE)
        grad = "1" if name == "L" else f"{g[name]:.4f}"
        ax.text(x, y - 0.2, f"∂L/∂{name} = {grad}", ha="center", va="center", fontsize=MIN_PT + 0.5, color=ORANGE)
    for label, (x0, y0), (x1, y1) in zip(arrows, where, where[1:]):
        if narrow:
            _arrow(ax, (x0, y0 - bh / 2 - 0.05), (x1, y1 + bh / 2 + 0.05))
            ax.text(x0 + 0.12, (y0 + y1) / 2, label.replace("\n", " "), ha="left", va="center",
                    fontsize=MIN_PT + 0.5, color=TEAL)
        else:
            _arrow(ax, (x0 + bw / 2 + 0.05, y0), (x1 - bw / 2 - 0.05, y1))
            ax.text((x0 + x1) / 2, y0 + bh / 2 + 0.12, label, ha="center", va="bottom", fontsize=MIN_PT + 0.5,
                    color=TEAL, linespacing=1.15)
    side = (f"w = {v['w']:g}, b = {v['b']:g}, t = {v['t']:g}; and ∂L/∂w = ∂L/∂z · x = {g['w']:.4f}, "
            f"∂L/∂b = ∂L/∂z · 1 = {g['b']:.4f}.\nEach gradient (orange) is the one after it times the local "
            "derivative (teal) on the arrow between them.")
    if narrow:
        side = (f"w = {v['w']:g}, b = {v['b']:g}, t = {v['t']:g}\n∂L/∂w = ∂L/∂z · x = {g['w']:.4f}\n"
                f"∂L/∂b = ∂L/∂z · 1 = {g['b']:.4f}\nEach gradient (orange) is the one\nafter it times the local "
                "derivative\n(teal) on the arrow between them.")
    ax.text(0.08, 0.08, side, ha="left", va="bottom", fontsize=MIN_PT, color="#222222", linespacing=1.25)


FIGURES = with_narrow({"backpropagation-graph.svg": draw_graph, "backpropagation-chain.svg": draw_chain})
