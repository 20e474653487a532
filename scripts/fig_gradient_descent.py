"""Figures for the Gradient descent chapter: paths of dismantle.SGD across a long quadratic bowl."""

import numpy as np
from figstyle import DESKTOP_IN, PHONE_IN, with_narrow
from matplotlib.patches import Ellipse

import dismantle as dm

CURVATURE = np.array([1.0, 10.0])  # f(x, y) = (x^2 + 10 y^2) / 2: shallow along x, steep along y
START = np.array([-4.5, 1.6])
STEPS = 30
RUNS = [  # (title, SGD settings); plain SGD is stable only for lr < 2 / 10 = 0.2
    ("lr = 0.01: too small", dict(lr=0.01)),
    ("lr = 0.1: good", dict(lr=0.1)),
    ("lr = 0.19: zig-zag", dict(lr=0.19)),
    ("lr = 0.205: diverges", dict(lr=0.205)),
    ("lr = 0.03, momentum 0.8", dict(lr=0.03, momentum=0.8)),
    ("same, Nesterov", dict(lr=0.03, momentum=0.8, nesterov=True)),
]


def bowl(xy):
    """The height $f$ of the bowl at points `xy` (last axis holds x and y)."""
    return 0.5 * (CURVATURE * xy**2).sum(axis=-1)


def descend(steps=STEPS, **settings):
    """Run dismantle.SGD on the bowl from START; return the visited points, shape (steps + 1, 2)."""
    point = dm.Parameter(START.copy())
    opt = dm.SGD([point], **settings)
    path = [point.data.copy()]
    for _ in range(steps):
        opt.zero_grad()
        point.grad = CURVATURE * point.data  # the gradient of the bowl: (x, 10 y)
        opt.step()
        path.append(point.data.copy())
    return np.array(path)


def draw_paths(fig, narrow=False):
    """Six panels: four learning rates, then momentum and Nesterov, over the bowl's contour lines (ellipses).

    On a desktop, two rows of three; on a phone, one column of six.
    """
    if narrow:
        fig.set_size_inches(PHONE_IN, 11.4)
        axes = fig.subplots(6, 1, sharex=True, sharey=True)
    else:
        fig.set_size_inches(DESKTOP_IN - 0.2, 4.6)
        axes = fig.subplots(2, 3, sharex=True, sharey=True)
    for ax, (title, settings), color in zip(axes.flat, RUNS, [0, 1, 3, 3, 2, 2]):
        for level in [0.05, 0.3, 1, 2.5, 5, 9, 14, 20]:  # f = level is an ellipse, semi-axes sqrt(2 level / a)
            width, height = 2 * np.sqrt(2 * level / CURVATURE)
            ax.add_patch(Ellipse((0, 0), width, height, fill=False, edgecolor="#bbbbbb", linewidth=0.8))
        path = descend(**settings)
        outside = np.flatnonzero(np.any(np.abs(path) > [5, 2.4], axis=1))
        shown = path if outside.size == 0 else path[: outside[0] + 1]  # stop once it leaves the picture
        ax.plot(shown[:, 0], shown[:, 1], "o-", color=f"C{color}", markersize=2.5, linewidth=1.2)
        ax.plot(*START, "s", color="#222222", markersize=5)
        ax.plot(0, 0, "*", color="#222222", markersize=9)
        ax.set_title(f"{title}\nafter {STEPS} steps f = {bowl(path[-1]):.3g}", fontsize=9.5)
        ax.set_xlim(-5, 5)
        ax.set_ylim(-2.4, 2.4)
        ax.set_xticks([-4, -2, 0, 2, 4])
        ax.set_yticks([-2, 0, 2])
        ax.grid(False)
    for ax in axes.reshape(len(axes), -1)[:, 0]:
        ax.set_ylabel("y (steep)")
    for ax in [axes[-1]] if narrow else axes[1]:
        ax.set_xlabel("x (shallow)")
    fig.tight_layout(h_pad=0.6)


FIGURES = with_narrow({"gradient-descent-paths.svg": draw_paths})
