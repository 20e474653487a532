"""Figures for the Backpropagation chapter: the MLP's computational graph, values forward, gradients back."""

import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import dismantle as dm

BLUE, ORANGE, GREY = "#3949ab", "#e65100", "#555555"

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


def _box(ax, xy, text, color, width=1.15, height=0.62):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                facecolor="white", edgecolor=color, linewidth=1.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=GREY, linewidth=1.3))


def draw_graph(fig):
    """Left to right: x, Linear, ReLU, Linear, cross-entropy, L; values above the edges, gradients below."""
    fig.set_size_inches(12, 4.8)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(-0.6, 16.2)
    ax.set_ylim(-1.85, 3.9)
    ax.set_axis_off()
    t = trace()
    ops = [(3.2, "Linear₁\nx W₁ᵀ + b₁"), (6.4, "ReLU"), (9.6, "Linear₂\nh W₂ᵀ + b₂"), (12.8, "Cross-\nentropy")]
    _box(ax, (0.0, 0.0), "x", BLUE, width=0.7)
    _box(ax, (15.6, 0.0), "L", BLUE, width=0.7)
    for x, label in ops:
        _box(ax, (x, 0.0), label, "#00897b")
    edges = [("x", 0.0, 3.2, "x", 0.38), ("z1", 3.2, 6.4, "z₁", 0.62), ("h", 6.4, 9.6, "h", 0.62),
             ("z2", 9.6, 12.8, "z₂", 0.62), ("L", 12.8, 15.6, "L", 0.62)]
    for key, a, b, sym, pad in edges:
        _arrow(ax, (a + pad, 0.0), (b - (0.38 if key == "L" else 0.62), 0.0))
        mid = (a + pad + b - 0.62) / 2
        value, grad = t[key]
        value_text = f"{value:.4f}" if key == "L" else _fmt(value)
        grad_text = "1" if key == "L" else _fmt(grad)
        ax.text(mid, 0.12, f"{sym} =\n{value_text}", ha="center", va="bottom", fontsize=8.5, color=BLUE)
        ax.text(mid, -0.12, f"∂L/∂{sym} =\n{grad_text}", ha="center", va="top", fontsize=8.5, color=ORANGE)
    for x, w, b, sub in ((3.2, "W1", "b1", "₁"), (9.6, "W2", "b2", "₂")):
        _arrow(ax, (x, 2.25), (x, 0.38))
        ax.text(x - 0.12, 1.3, f"W{sub} =\n{_fmt(t[w][0])}\nb{sub} = {_fmt(t[b][0])}", ha="right", va="center",
                fontsize=8, color=BLUE)
        ax.text(x + 0.12, 1.3, f"∂L/∂W{sub} =\n{_fmt(t[w][1])}\n∂L/∂b{sub} = {_fmt(t[b][1])}", ha="left",
                va="center", fontsize=8, color=ORANGE)
        _box(ax, (x, 2.55), f"W{sub}, b{sub}", BLUE, width=1.0, height=0.5)
    _arrow(ax, (12.8, 2.25), (12.8, 0.42))
    _box(ax, (12.8, 2.55), f"label y = {Y[0]}", BLUE, width=1.3, height=0.5)
    ax.text(0.0, 3.6, "Forward values (blue) flow to the right; gradients ∂L/∂· (orange) flow back to the left.",
            ha="left", va="center", fontsize=10, color="#222222")
    ax.text(0.0, -1.55, "Every gradient has the shape of the value it belongs to. ReLU's first unit is off "
            f"(z₁ = {t['z1'][0][0, 0]:.2f} < 0), so no gradient flows through it: the first row of ∂L/∂W₁ is zero.",
            ha="left", va="center", fontsize=9, color="#222222")


FIGURES = {"backpropagation-graph.svg": draw_graph}
