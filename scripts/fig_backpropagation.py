"""Figures for the Backpropagation chapter: the MLP's computational graph, values forward, gradients back."""

import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import dismantle as dm

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
    a = np.atleast_1d(np.asarray(a, dtype=float))
    if a.ndim == 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 1:
        return "[" + ", ".join(f"{v:.2f}" for v in a + 0.0) + "]"
    return "\n".join("[" + ", ".join(f"{v:.2f}" for v in row + 0.0) + "]" for row in a)


def _box(ax, xy, text, color, width=1.0, height=0.6):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.04",
                                facecolor="white", edgecolor=color, linewidth=1.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=10.5)


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=13, color=GREY, linewidth=1.4))


def draw_graph(fig):
    """Left to right: x, Linear, ReLU, Linear, cross-entropy, L; values above the edges, gradients below.

    Axis units are inches, so the text sizes and gaps below can be read directly.
    """
    fig.set_size_inches(11, 6.2)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 6.2)
    ax.set_axis_off()
    t = trace()
    row, half = 2.0, 0.34  # the main row, and half a box height plus its padding
    nodes = [(0.45, "x", BLUE, 0.6), (2.45, "Linear₁\nx W₁ᵀ + b₁", TEAL, 1.05), (4.45, "ReLU", TEAL, 1.0),
             (6.45, "Linear₂\nh W₂ᵀ + b₂", TEAL, 1.05), (8.45, "Cross-\nentropy", TEAL, 1.0), (10.45, "L", BLUE, 0.6)]
    for x, label, color, width in nodes:
        _box(ax, (x, row), label, color, width=width)
    for (key, sym), (xa, _, _, wa), (xb, _, _, wb) in zip(
        [("x", "x"), ("z1", "z₁"), ("h", "h"), ("z2", "z₂"), ("L", "L")], nodes, nodes[1:]
    ):
        _arrow(ax, (xa + wa / 2 + 0.04, row), (xb - wb / 2 - 0.04, row))
        value, grad = t[key]
        value_text = f"{value:.4f}" if key == "L" else _fmt(value)
        grad_text = "1" if key == "L" else _fmt(grad)
        mid = (xa + xb) / 2
        ax.text(mid, row + half + 0.1, f"{sym} =\n{value_text}", ha="center", va="bottom", fontsize=10.5,
                color=BLUE)
        ax.text(mid, row - half - 0.1, f"∂L/∂{sym} =\n{grad_text}", ha="center", va="top", fontsize=10.5,
                color=ORANGE)
    for x, w, b, sub in ((2.45, "W1", "b1", "₁"), (6.45, "W2", "b2", "₂")):
        _box(ax, (x, 5.25), f"W{sub}, b{sub}", BLUE, width=0.9, height=0.45)
        _arrow(ax, (x, 5.0), (x, row + half))
        ax.text(x - 0.12, 3.95, f"W{sub} =\n{_fmt(t[w][0])}\nb{sub} =\n{_fmt(t[b][0])}", ha="right", va="center",
                fontsize=10, color=BLUE)
        ax.text(x + 0.12, 3.95, f"∂L/∂W{sub} =\n{_fmt(t[w][1])}\n∂L/∂b{sub} =\n{_fmt(t[b][1])}", ha="left",
                va="center", fontsize=10, color=ORANGE)
    _box(ax, (8.45, 5.25), f"label y = {Y[0]}", BLUE, width=1.2, height=0.45)
    _arrow(ax, (8.45, 5.0), (8.45, row + half))
    ax.text(0.15, 5.95, "Forward values (blue) flow to the right; gradients ∂L/∂· (orange) flow back to the left.",
            ha="left", va="center", fontsize=11, color="#222222")
    ax.text(0.15, 0.55, f"ReLU's first unit is off (z₁ = {t['z1'][0][0, 0]:.2f} < 0), so no gradient flows through "
            "it:\nthe first row of ∂L/∂W₁ is zero. Every gradient has the shape of the value it belongs to.",
            ha="left", va="center", fontsize=10.5, color="#222222")


FIGURES = {"backpropagation-graph.svg": draw_graph}
