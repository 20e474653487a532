"""Figures for the Non-linearity chapter: each activation beside its derivative, and softmax at work."""

import numpy as np
from figstyle import COLORS, DESKTOP_IN, MIN_PT, PHONE_IN, panels, with_narrow

from dismantle import functional as F

Z = np.linspace(-6, 6, 481)  # includes 0 exactly, where ReLU bends
PAIRS = {
    "relu": ("ReLU", F.relu, F.relu_prime),
    "sigmoid": ("sigmoid σ", F.sigmoid, F.sigmoid_prime),
    "tanh": ("tanh", F.tanh, F.tanh_prime),
}
MARKS = {"relu": [-0.2, 0.6], "sigmoid": [2.0, -3.0], "tanh": [1.0]}  # the points worked out on the page
LABELS = {"relu": {0: ((-6, 6), "right")}}  # ReLU's two points are close: the left one is labelled on its left


def _pair(fig, key, narrow=False):
    """Left (on a phone: top): the activation f(z). Right: its derivative f'(z). The page's points dotted."""
    title, f, prime = PAIRS[key]
    left, right = panels(fig, 2, narrow)
    marks = np.array(MARKS[key])
    for ax, fn, name, color in ((left, f, title, COLORS[0]), (right, prime, f"its derivative {title}′", COLORS[1])):
        ys = fn(Z)
        if key == "relu" and fn is prime:  # a step: draw the two flat pieces, not a vertical line at 0
            ax.plot(Z[Z < 0], ys[Z < 0], color=color)
            ax.plot(Z[Z > 0], ys[Z > 0], color=color)
            ax.plot([0], [0], "o", color=color, markersize=5)
            ax.plot([0], [1], "o", markerfacecolor="white", color=color, markersize=5)
        else:
            ax.plot(Z, ys, color=color)
        ax.plot(marks, fn(marks), "o", color=COLORS[2], markersize=6, zorder=3)
        low = ys.min() + 0.05 * (ys.max() - ys.min())  # a label under a point this low would hit the axis
        for k, (m, v) in enumerate(zip(marks, fn(marks))):
            (dx, dy), ha = LABELS.get(key, {}).get(k, ((6, 5 if v < low else -13), "left"))
            ax.annotate(f"{v:.4f}", (m, v), textcoords="offset points", xytext=(dx, dy), ha=ha,
                        fontsize=MIN_PT, color=COLORS[2])
        ax.set_title(name, fontsize=10.5)
        ax.set_xlabel("z")
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.axvline(0, color="#999999", linewidth=0.8)
    fig.tight_layout()


def draw_softmax(fig, narrow=False):
    """Softmax of the logits (z0, 3, 1) as z0 slides: the three probabilities always add up to 1."""
    fig.set_size_inches(PHONE_IN, 3.6) if narrow else fig.set_size_inches(DESKTOP_IN - 0.6, 3.2)
    ax = fig.add_subplot()
    z0 = np.linspace(-4, 8, 241)
    logits = np.stack([z0, np.full_like(z0, 3.0), np.full_like(z0, 1.0)], axis=-1)
    p = F.softmax(logits)
    for k, label in enumerate(["p₀ (its logit z₀ varies)", "p₁ (logit fixed at 3)", "p₂ (logit fixed at 1)"]):
        ax.plot(z0, p[:, k], color=COLORS[k], label=label)
    here = F.softmax(np.array([2.0, 3.0, 1.0]))
    ax.plot([2.0] * 3, here, "o", color="#222222", markersize=5, zorder=3)
    ax.annotate("z = [2, 3, 1]", (2.0, here[1]), textcoords="offset points", xytext=(8, 4), fontsize=MIN_PT)
    ax.set_xlabel("z₀")
    ax.set_ylabel("probability")
    ax.set_ylim(-0.03, 1.03)
    if narrow:  # no room beside the curves: the legend goes under the plot
        ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.22), fontsize=MIN_PT)
    else:
        ax.legend(loc="center right", fontsize=MIN_PT)
    fig.tight_layout()


FIGURES = with_narrow({
    "nonlinearity-relu.svg": lambda fig, narrow=False: _pair(fig, "relu", narrow),
    "nonlinearity-sigmoid.svg": lambda fig, narrow=False: _pair(fig, "sigmoid", narrow),
    "nonlinearity-tanh.svg": lambda fig, narrow=False: _pair(fig, "tanh", narrow),
    "nonlinearity-softmax.svg": draw_softmax,
})
