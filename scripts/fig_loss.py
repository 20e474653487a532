"""Figures for the Loss chapter: cross-entropy and its slope against the probability of the right class."""

import numpy as np
from figstyle import COLORS, MIN_PT, panels, with_narrow

from dismantle import functional as F

Z = np.array([[0.1, 0.4, 0.2], [0.3, 0.9, 0.6]])  # the page's worked example
Y = np.array([2, 0])


def draw_cross_entropy(fig, narrow=False):
    """Left (phone: top): -log p, the loss of one example. Right: its slope -1/p. The example's rows dotted."""
    left, right = panels(fig, 2, narrow, height=3.0, panel_height=2.6)
    p = np.linspace(0.02, 1.0, 491)
    picked = F.softmax(Z)[np.arange(len(Y)), Y]
    left.plot(p, -np.log(p), color=COLORS[0])
    left.set_title("loss of one example: −log p", fontsize=10.5)
    left.set_ylabel("loss")
    right.plot(p, -1 / p, color=COLORS[1])
    right.set_title("its slope: d(−log p)/dp = −1/p", fontsize=10.5)
    right.set_ylim(-12, 0.5)
    # label offsets (points) and alignment, chosen so that neither label sits on the curve or the other
    offsets = {left: [((8, 4), "left"), ((8, 4), "left")], right: [((8, -14), "left"), ((10, -16), "left")]}
    for ax, values in ((left, -np.log(picked)), (right, -1 / picked)):
        ax.plot(picked, values, "o", color=COLORS[2], markersize=6, zorder=3)
        for n, (q, v) in enumerate(zip(picked, values)):
            shift, ha = offsets[ax][n]
            ax.annotate(f"row {n}: p = {q:.4f}", (q, v), textcoords="offset points", xytext=shift, ha=ha,
                        fontsize=MIN_PT, color=COLORS[2])
        ax.set_xlabel("p, probability of the right class")
        ax.set_xlim(0, 1.02)
        ax.axhline(0, color="#999999", linewidth=0.8)
    fig.tight_layout()


FIGURES = with_narrow({"loss-cross-entropy.svg": draw_cross_entropy})
