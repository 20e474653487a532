"""Figures for the Linearity chapter: one neuron as a little machine of weighted wires."""

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch

X = np.array([0.9, 0.5, 0.3])
W = np.array([0.2, 0.1, 0.4])
B = 0.1


def _node(ax, xy, text, color):
    ax.add_patch(Circle(xy, 0.32, facecolor="white", edgecolor=color, linewidth=2))
    ax.text(*xy, text, ha="center", va="center", fontsize=11)


def draw_neuron(fig):
    """Three inputs, three weights, one bias, one output: the page's first neuron, with its numbers."""
    fig.set_size_inches(6.4, 3.4)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(-0.6, 7.2)
    ax.set_ylim(-0.3, 4.1)
    ax.set_axis_off()
    neuron = (4.2, 1.9)
    for i, (xi, wi) in enumerate(zip(X, W)):
        y = 3.4 - 1.5 * i
        _node(ax, (0.4, y), f"$x_{i}$\n{xi:.1f}", "#3949ab")
        ax.add_patch(FancyArrowPatch((0.75, y), (3.85, neuron[1] + 0.15 * (1 - i)), arrowstyle="-|>",
                                     mutation_scale=12, color="#555555", linewidth=1.4))
        mid_y = (y + neuron[1]) / 2 + 0.18
        ax.text(2.2, mid_y, f"$w_{i}$ = {wi:.1f}   ({xi:.1f}·{wi:.1f} = {xi * wi:.2f})", ha="center",
                fontsize=9, color="#e65100")
    _node(ax, neuron, "Σ + b", "#00897b")
    ax.text(neuron[0], neuron[1] - 0.6, f"b = {B:.1f}", ha="center", va="top", fontsize=9, color="#00897b")
    z = float(X @ W + B)
    ax.add_patch(FancyArrowPatch((4.55, neuron[1]), (6.0, neuron[1]), arrowstyle="-|>", mutation_scale=12,
                                 color="#555555", linewidth=1.4))
    ax.text(6.1, neuron[1], f"z = {z:.2f}", ha="left", va="center", fontsize=11)


FIGURES = {"linearity-neuron.svg": draw_neuron}
