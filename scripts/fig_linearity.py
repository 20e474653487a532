"""Figures for the Linearity chapter: one neuron as a little machine of weighted wires."""

import numpy as np
from figstyle import MIN_PT, PHONE_IN, with_narrow
from matplotlib.patches import Circle, FancyArrowPatch

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
    fig.set_size_inches(width, height)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
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


FIGURES = with_narrow({"linearity-neuron.svg": draw_neuron})
