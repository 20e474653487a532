"""Shared look and deterministic output for every figure on the site.

Figures are drawn on white (the CSS gives them a rounded card), so they read the same on the
light and the dark palette. SVG output is byte-for-byte reproducible: a fixed hash salt, no
date, text kept as text.
"""

import matplotlib

matplotlib.use("svg")

import matplotlib.pyplot as plt  # noqa: E402

COLORS = ["#3949ab", "#e65100", "#00897b", "#c2185b", "#6d4c41", "#546e7a"]

RC = {
    "svg.hashsalt": "dismantling-neural-networks",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#222222",
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=COLORS),
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "text.color": "#222222",
    "lines.linewidth": 2.0,
    "legend.frameon": False,
    "path.simplify": False,
}


def new_figure(width=6.4, height=3.6):
    """A blank figure in the house style."""
    with plt.rc_context(RC):
        return plt.figure(figsize=(width, height))


def save(fig, path):
    """Write ``fig`` as a deterministic SVG and close it."""
    with plt.rc_context(RC):
        fig.savefig(path, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
