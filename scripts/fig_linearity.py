"""Figures for the Linearity chapter: one neuron as a little machine of weighted wires."""

import numpy as np
from figstyle import MIN_PT, PHONE_IN, canvas, with_narrow
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle

import dismantle as dm

X = np.array([0.9, 0.5, 0.3])
W = np.array([0.2, 0.1, 0.4])
B = 0.1
SUB = "₀₁₂"


def _node(ax, xy, text, color):
    ax.add_patch(Circle(xy, 0.32, facecolor="white", edgecolor=color, linewidth=2))
    ax.text(*xy, text, ha="center", va="center", fontsize=11)


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#555555", linewidth=1.4,
                                 shrinkA=0, shrinkB=0))


def draw_neuron(fig, narrow=False):
    """Three inputs, three weights, one bias, one output: the page's first neuron, with its numbers.

    Axis units are inches. On a desktop the inputs stand in a column on the left; on a phone
    they stand in a row on top, and the products are summed up in one line under the neuron.
    """
    width, height = (PHONE_IN, 4.5) if narrow else (6.4, 3.4)
    ax = canvas(fig, width, height)
    z = float(X @ W + B)
    neuron = (1.7, 2.05) if narrow else (4.5, 1.8)
    for i, (xi, wi) in enumerate(zip(X, W)):
        if narrow:
            xy = (0.55 + 1.15 * i, 4.0)
            _node(ax, xy, f"x{SUB[i]}\n{xi:.1f}", "#3949ab")
            tip = (neuron[0] + 0.2 * (i - 1), neuron[1] + 0.33)
            _arrow(ax, (xy[0], xy[1] - 0.34), tip)
            start = np.array([xy[0], xy[1] - 0.34])
            label = start + 0.4 * (np.array(tip) - start)  # on the wire, where the wires are far apart
            ax.text(*label, f"w{SUB[i]} = {wi:.1f}", ha="center", va="center", fontsize=MIN_PT + 0.5,
                    color="#e65100", bbox=dict(facecolor="white", edgecolor="none", pad=1.5))
        else:
            y = 3.0 - 1.3 * i
            _node(ax, (0.7, y), f"x{SUB[i]}\n{xi:.1f}", "#3949ab")
            _arrow(ax, (1.04, y), (neuron[0] - 0.33, neuron[1] + 0.15 * (1 - i)))
            above = i < 2  # the last wire climbs steeply: its label goes under it
            ax.text(1.25, y + (0.12 if above else -0.12), f"w{SUB[i]} = {wi:.1f}   ({xi:.1f}·{wi:.1f} = {xi * wi:.2f})",
                    ha="left", va="bottom" if above else "top", fontsize=MIN_PT + 0.5, color="#e65100")
    _node(ax, neuron, "Σ + b", "#00897b")
    if narrow:
        ax.text(neuron[0] + 0.42, neuron[1], f"b = {B:.1f}", ha="left", va="center", fontsize=MIN_PT + 0.5,
                color="#00897b")
        _arrow(ax, (neuron[0], neuron[1] - 0.34), (neuron[0], 1.05))
        ax.text(neuron[0], 0.85, f"z = {z:.2f}", ha="center", va="center", fontsize=11)
        products = " + ".join(f"{xi * wi:.2f}" for xi, wi in zip(X, W))
        ax.text(neuron[0], 0.35, f"{products} + {B:.1f} = {z:.2f}", ha="center", va="center",
                fontsize=MIN_PT + 0.5, color="#222222")
    else:
        ax.text(neuron[0], neuron[1] - 0.45, f"b = {B:.1f}", ha="center", va="top", fontsize=MIN_PT + 0.5,
                color="#00897b")
        _arrow(ax, (neuron[0] + 0.34, neuron[1]), (5.6, neuron[1]))
        ax.text(5.7, neuron[1], f"z = {z:.2f}", ha="left", va="center", fontsize=11)


# ---------------------------------------------------------------- shapes of the layer's gradients

SIZES = {"N": 4, "in": 3, "out": 2}  # any distinct sizes will do; the blocks are drawn to scale


def gradient_shapes():
    """Run a real ``dm.Linear(in, out)`` forward and backward on N examples; return every array's shape."""
    n, fan_in, fan_out = SIZES.values()
    layer = dm.Linear(fan_in, fan_out, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(n, fan_in))
    g = np.ones((n, fan_out))  # an upstream gradient, shaped like the output
    layer(x)
    grad_x = layer.backward(g)
    return {"G": g.shape, "Gᵀ": g.T.shape, "X": x.shape, "W": layer.weight.data.shape,
            "∂L/∂W": layer.weight.grad.shape, "∂L/∂X": grad_x.shape}


def _block(ax, x, y, shape, name, unit, font, names, summed):
    """A rows × cols block with its top-left corner at (x, y); its sides are labelled with the size names."""
    rows, cols = shape
    ax.add_patch(Rectangle((x, y - rows * unit), cols * unit, rows * unit, facecolor="#e8eaf6", edgecolor="#3949ab",
                           linewidth=1.4))
    for k in range(1, cols):
        ax.plot([x + k * unit] * 2, [y, y - rows * unit], color="#9fa8da", linewidth=0.6)
    for k in range(1, rows):
        ax.plot([x, x + cols * unit], [y - k * unit] * 2, color="#9fa8da", linewidth=0.6)
    ax.text(x + cols * unit / 2, y - rows * unit / 2, name, ha="center", va="center", fontsize=font + 1,
            bbox=dict(facecolor="white", edgecolor="none", pad=1.0, alpha=0.9))
    for text, xy, kw in ((names[1], (x + cols * unit / 2, y + 0.06), dict(ha="center", va="bottom")),
                         (names[0], (x - 0.06, y - rows * unit / 2), dict(ha="right", va="center"))):
        ax.text(*xy, text, fontsize=font, color="#e65100" if text == summed else "#222222", **kw)
    return x + cols * unit


def draw_shapes(fig, narrow=False):
    """dL/dW = Gᵀ X and dL/dX = G W as blocks drawn to scale, sides labelled N, in, out; the summed side in orange.

    The shapes come from a real ``dm.Linear`` backward pass (``gradient_shapes``).
    """
    shapes = gradient_shapes()
    name_of = {v: k for k, v in SIZES.items()}
    unit, font, gap = (0.18, MIN_PT + 0.5, 0.6) if narrow else (0.3, 11, 0.75)
    width, height = (PHONE_IN, 4.3) if narrow else (5.3, 4.5)
    ax = canvas(fig, width, height)
    equations = [("∂L/∂W", "Gᵀ", "X", "W"), ("∂L/∂X", "G", "W", "X")]
    top = height - 0.35
    for result, left, right, like in equations:
        summed = name_of[shapes[left][1]]
        x = 0.4
        blocks = [(shapes[left], left), None, (shapes[right], right), "=", (shapes[result], result)]
        for item in blocks:
            if item is None or item == "=":
                ax.text(x + 0.17, top - unit * 1.1, "·" if item is None else "=", ha="center", va="center",
                        fontsize=font + 4)  # near the left block: the next block's side label needs the rest
                x += gap
                continue
            shape, name = item
            x = _block(ax, x, top, shape, name, unit, font, [name_of[s] for s in shape], summed)
        depth = max(shapes[left][0], shapes[right][0]) * unit
        n_left, n_right = (name_of[s] for s in shapes[result])
        line = (f"{result} = {left} {right}:{chr(10) if narrow else '  '}({name_of[shapes[left][0]]}, {summed}) · "
                f"({summed}, {name_of[shapes[right][1]]}) → ({n_left}, {n_right}), the shape of {like}")
        ax.text(0.1, top - depth - 0.15, line, ha="left", va="top", fontsize=MIN_PT + 0.5, linespacing=1.2)
        top -= depth + (1.05 if narrow else 0.95)
    note = (f"Drawn with N = {SIZES['N']}, in = {SIZES['in']}, out = {SIZES['out']}.{chr(10) if narrow else ' '}"
            f"The side summed over (orange){chr(10) if narrow else ' '}meets in the middle and disappears.")
    ax.text(0.1, 0.1, note, ha="left", va="bottom", fontsize=MIN_PT, color="#222222", linespacing=1.2)


FIGURES = with_narrow({"linearity-neuron.svg": draw_neuron, "linearity-gradient-shapes.svg": draw_shapes})
