"""Figure for the Adaptive steps chapter (adam.md): SGD, momentum and Adam walking the bowl and a badly scaled bowl.

Two panels side by side on a desktop, stacked in the phone rendering (``figstyle.with_narrow``).
"""

import numpy as np
from figstyle import panels, with_narrow
from matplotlib.patches import Ellipse

import dismantle as dm

START = np.array([-4.5, 1.6])
STEPS = 50
BOWLS = [  # (title, curvatures a): f(x, y) = (a_x x^2 + a_y y^2) / 2
    ("the bowl (x² + 10 y²) / 2", np.array([1.0, 10.0])),
    ("badly scaled: (x² / 10 + 10 y²) / 2", np.array([0.1, 10.0])),
]
WALKERS = [  # (label, optimizer, settings, style)
    ("SGD", dm.SGD, {"lr": 0.1}, "o-"),
    ("momentum", dm.SGD, {"lr": 0.03, "momentum": 0.8}, "s-"),
    ("Adam", dm.Adam, {"lr": 0.3}, "^-"),
]
FONT = 10


def height(curvature, xy):
    """The bowl's height $f$ at points `xy` (last axis holds x and y)."""
    return 0.5 * (curvature * xy**2).sum(axis=-1)


def walk(curvature, optimizer, steps=STEPS, **settings):
    """Run `optimizer` on the bowl from START; return the visited points, shape (steps + 1, 2)."""
    point = dm.Parameter(START.copy())
    opt = optimizer([point], **settings)
    path = [point.data.copy()]
    for _ in range(steps):
        opt.zero_grad()
        point.grad = curvature * point.data  # the gradient (a_x x, a_y y)
        opt.step()
        path.append(point.data.copy())
    return np.array(path)


def draw_paths(fig, narrow=False):
    """Two panels, one per bowl, each with the three walkers' paths over the contour lines."""
    axes = panels(fig, 2, narrow, height=3.4, panel_height=3.0)
    for ax, (title, curvature) in zip(axes, BOWLS):
        for level in [0.05, 0.3, 1, 2.5, 5, 9, 14]:  # f = level: an ellipse with semi-axes sqrt(2 level / a)
            width, tall = 2 * np.sqrt(2 * level / curvature)
            ax.add_patch(Ellipse((0, 0), width, tall, fill=False, edgecolor="#bbbbbb", linewidth=0.8))
        for i, (label, optimizer, settings, style) in enumerate(WALKERS):
            path = walk(curvature, optimizer, **settings)
            ax.plot(path[:, 0], path[:, 1], style, color=f"C{i}", markersize=3, linewidth=1.2,
                    label=f"{label}: {height(curvature, path[-1]):.2g}")
        ax.plot(*START, "s", color="#222222", markersize=6)
        ax.plot(0, 0, "*", color="#222222", markersize=11)
        ax.set_title(title, fontsize=FONT)
        ax.set_xlim(-5, 2)
        ax.set_ylim(-3.3, 2.2)  # room below the paths for the legend
        ax.set_xlabel("x (shallow)", fontsize=FONT)
        ax.set_ylabel("y (steep)", fontsize=FONT)
        ax.tick_params(labelsize=FONT)
        ax.legend(loc="lower left", fontsize=FONT, handlelength=1.5, borderaxespad=0.2,
                  title=f"f after {STEPS} steps", title_fontsize=FONT)
        ax.grid(False)
    fig.tight_layout()


FIGURES = with_narrow({"adam-two-bowls.svg": draw_paths})
