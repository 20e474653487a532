"""Figures for the Non-linearity chapter: each activation beside its derivative, and softmax at work."""

import numpy as np
from figstyle import COLORS

from dismantle import functional as F

Z = np.linspace(-6, 6, 481)  # includes 0 exactly, where ReLU bends
PAIRS = {
    "relu": ("ReLU", F.relu, F.relu_prime),
    "sigmoid": ("sigmoid σ", F.sigmoid, F.sigmoid_prime),
    "tanh": ("tanh", F.tanh, F.tanh_prime),
}
MARKS = {"relu": [-0.2, 0.6], "sigmoid": [2.0, -3.0], "tanh": [1.0]}  # the points worked out on the page


def _pair(fig, key):
    """Left: the activation f(z). Right: its derivative f'(z). The page's example points are dotted on both."""
    title, f, prime = PAIRS[key]
    fig.set_size_inches(7.2, 2.8)
    left, right = fig.subplots(1, 2)
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
        for m, v in zip(marks, fn(marks)):
            ax.annotate(f"{v:.4f}", (m, v), textcoords="offset points", xytext=(6, -12), fontsize=8, color=COLORS[2])
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("z")
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.axvline(0, color="#999999", linewidth=0.8)
    fig.tight_layout()


def draw_softmax(fig):
    """Softmax of the logits (z0, 3, 1) as z0 slides: the three probabilities always add up to 1."""
    fig.set_size_inches(6.4, 3.2)
    ax = fig.add_subplot()
    z0 = np.linspace(-4, 8, 241)
    logits = np.stack([z0, np.full_like(z0, 3.0), np.full_like(z0, 1.0)], axis=-1)
    p = F.softmax(logits)
    for k, label in enumerate(["$p_0$ (its logit $z_0$ varies)", "$p_1$ (logit fixed at 3)", "$p_2$ (logit fixed at 1)"]):
        ax.plot(z0, p[:, k], color=COLORS[k], label=label)
    here = F.softmax(np.array([2.0, 3.0, 1.0]))
    ax.plot([2.0] * 3, here, "o", color="#222222", markersize=5, zorder=3)
    ax.annotate("z = [2, 3, 1]", (2.0, here[1]), textcoords="offset points", xytext=(8, 4), fontsize=9)
    ax.set_xlabel("$z_0$")
    ax.set_ylabel("probability")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()


FIGURES = {
    "nonlinearity-relu.svg": lambda fig: _pair(fig, "relu"),
    "nonlinearity-sigmoid.svg": lambda fig: _pair(fig, "sigmoid"),
    "nonlinearity-tanh.svg": lambda fig: _pair(fig, "tanh"),
    "nonlinearity-softmax.svg": draw_softmax,
}
