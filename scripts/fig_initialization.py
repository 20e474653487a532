"""Figures for the Initialization chapter: the page's 15-layer stacks, measured layer by layer.

Both figures are narrow and stacked (one panel per row) with large type, so that they keep
11 px text when a phone shrinks them to its 343 px column.
"""

import functools

import numpy as np

import dismantle as dm
from dismantle import init

DEPTH, WIDTH, BATCH = 15, 256, 500  # the page's experiment, so the pictures show what it prints
SCHEMES = {
    "too small": lambda w, rng: init.normal_(w, 0.0, 0.01, rng=rng),
    "too large": lambda w, rng: init.normal_(w, 0.0, 0.2, rng=rng),
    "Xavier": lambda w, rng: init.xavier_normal_(w, rng=rng),
    "Kaiming": lambda w, rng: init.kaiming_normal_(w, nonlinearity="relu", rng=rng),
}
STYLE = {"too small": ("#3949ab", "v"), "too large": ("#e65100", "^"), "Xavier": ("#00897b", "o"),
         "Kaiming": ("#c2185b", "s")}
FONT = 13  # points in the SVG; the figures are about 290 pt wide, so a phone shows this as 11.5 px


def deep_stack(activation, scheme, seed=0):
    """The page's stack: DEPTH × (Linear(WIDTH, WIDTH) with `scheme`'s weights and zero bias, activation)."""
    rng = np.random.default_rng(seed)
    modules = []
    for _ in range(DEPTH):
        layer = dm.Linear(WIDTH, WIDTH, rng=rng)
        SCHEMES[scheme](layer.weight, rng)
        init.zeros_(layer.bias)
        modules += [layer, activation()]
    return dm.Sequential(*modules)


@functools.cache
def measure(activation, scheme, seed=1):
    """(activations after each layer, gradient norm reaching each layer's output), as on the page."""
    net = deep_stack(activation, scheme)
    rng = np.random.default_rng(seed)
    a, outs = rng.normal(size=(BATCH, WIDTH)), []
    for m in net:
        a = m(a)
        if not isinstance(m, dm.Linear):
            outs.append(a)
    g, norms = rng.normal(size=a.shape), []
    g /= np.linalg.norm(g)
    for m in reversed(net.modules):
        if not isinstance(m, dm.Linear):
            norms.append(np.linalg.norm(g))
        g = m.backward(g)
    return outs, np.array(norms[::-1])


def draw_deep_stack(fig):
    """Four stacked panels: activation std and gradient norm per layer, for tanh and for ReLU."""
    fig.set_size_inches(3.6, 10.4)
    layers = np.arange(1, DEPTH + 1)
    panels = [(act, what) for act in (dm.Tanh, dm.ReLU) for what in ("activation std", "gradient norm")]
    axes = fig.subplots(len(panels), 1)
    for ax, (act, what) in zip(axes, panels):
        for scheme, (color, marker) in STYLE.items():
            outs, norms = measure(act, scheme)
            values = [o.std() for o in outs] if what == "activation std" else norms
            ax.semilogy(layers, values, marker=marker, color=color, markersize=5, label=scheme)
        ax.set_title(f"{act.__name__}: {what}", fontsize=FONT)
        ax.set_xticks([1, 5, 10, 15])
        ax.tick_params(labelsize=FONT - 1)
        ax.set_yticks([1e-12, 1e-8, 1e-4, 1, 1e4])
        ax.minorticks_off()
    axes[-1].set_xlabel("layer", fontsize=FONT)
    axes[0].legend(fontsize=FONT - 1, ncol=2, loc="upper center", bbox_to_anchor=(0.5, 1.62), handlelength=1.5,
                   columnspacing=1.0)
    fig.tight_layout(h_pad=1.2)


def draw_histograms(fig):
    """Three stacked panels: tanh activations after layers 1, 5 and 15, for three schemes."""
    fig.set_size_inches(3.6, 7.6)
    bins = np.linspace(-1, 1, 41)
    axes = fig.subplots(3, 1)
    shown = {1: "#9fa8da", 5: "#3949ab", 15: "#e65100"}
    for ax, scheme in zip(axes, ("too small", "Xavier", "too large")):
        outs, _ = measure(dm.Tanh, scheme)
        for layer, color in shown.items():
            counts, _ = np.histogram(outs[layer - 1], bins=bins)
            ax.stairs(counts / counts.sum(), bins, color=color, linewidth=2.2, label=f"layer {layer}")
        ax.set_title(f"tanh, {scheme}", fontsize=FONT)
        ax.set_xticks([-1, 0, 1])
        ax.set_ylim(0, None)
        ax.tick_params(labelsize=FONT - 1)
        ax.set_ylabel("share", fontsize=FONT - 1)
    axes[-1].set_xlabel("activation value", fontsize=FONT)
    axes[0].legend(fontsize=FONT - 1, loc="upper right")
    fig.tight_layout(h_pad=1.2)


FIGURES = {
    "initialization-deep-stack.svg": draw_deep_stack,
    "initialization-histograms.svg": draw_histograms,
}
