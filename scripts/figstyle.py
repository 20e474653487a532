"""Shared look and deterministic output for every figure on the site.

Figures are drawn on white (the CSS gives them a rounded card), so they read the same on the
light and the dark palette. SVG output is byte-for-byte reproducible: a fixed hash salt, no
date, text kept as text.

Legibility (measured in the browser suite, ``tests/browser/test_figures.py``): every text must
render at 11 CSS px or more. An SVG's user unit is one point (4/3 CSS px at natural size), the
desktop column shows 672 px and a 375 px phone 327 px. So a desktop rendering at most
``DESKTOP_IN`` wide is shown unshrunk, where ``MIN_PT`` (9.5 pt) is 12.7 px; a figure that
needs more room than a phone's column gets a second, narrow rendering ``<name>.narrow.svg``
about ``PHONE_IN`` wide, drawn by the same function from the same data (``sitekit.figures``
serves it to phones with ``<picture>``), where the same 9.5 pt is about 12.7 px again.
"""

import matplotlib

matplotlib.use("svg")

import matplotlib.pyplot as plt

DESKTOP_IN = 7.0  # 504 pt = 672 CSS px: the desktop column
PHONE_IN = 3.4  # 245 pt = 327 CSS px: a 375 px phone's column
MIN_PT = 9.5  # the smallest text any figure uses
COLORS = ["#3949ab", "#e65100", "#00897b", "#c2185b", "#6d4c41", "#546e7a"]

RC = {
    "svg.hashsalt": "dismantling-neural-networks",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10.5,
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


def with_narrow(draw):
    """``{name: draw}`` → the figure and its phone rendering: ``draw(fig)`` and ``draw(fig, narrow=True)``."""
    out = {}
    for name, fn in draw.items():
        out[name] = fn
        out[name.replace(".svg", ".narrow.svg")] = lambda fig, fn=fn: fn(fig, narrow=True)
    return out


def canvas(fig, width, height, per_inch=1):
    """Size ``fig`` to ``width`` × ``height`` and return one blank axes drawn in those units.

    The units are inches, or points with ``per_inch=72``.
    """
    fig.set_size_inches(width / per_inch, height / per_inch)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return ax


def panels(fig, n, narrow, height=2.9, panel_height=2.4):
    """``n`` panels side by side ``DESKTOP_IN`` wide (``height`` tall), or stacked ``PHONE_IN`` wide."""
    if narrow:
        fig.set_size_inches(PHONE_IN, panel_height * n)
        return list(fig.subplots(n, 1))
    fig.set_size_inches(DESKTOP_IN - 0.4, height)
    return list(fig.subplots(1, n))
