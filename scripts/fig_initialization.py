"""Figures for the Initialization chapter: the page's 15-layer stacks, measured layer by layer.

Each comes as a desktop grid and a phone rendering with the panels stacked and larger type
(``figstyle.with_narrow``), so that every text stays at 11 CSS px or more on both.
"""

import functools

import numpy as np
from figstyle import DESKTOP_IN, PHONE_IN, panels, with_narrow

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
FONT = 12  # points: 16 px at natural size; the phone rendering is about its column wide


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
    for m in reversed(list(net)):
        if not isinstance(m, dm.Linear):
            norms.append(np.linalg.norm(g))
        g = m.backward(g)
    return outs, np.array(norms[::-1])


def draw_deep_stack(fig, narrow=False):
    """Activation std and gradient norm per layer, for tanh and for ReLU: a 2×2 grid, or stacked."""
    if narrow:
        fig.set_size_inches(PHONE_IN, 10.4)
        axes = list(fig.subplots(4, 1))
    else:
        fig.set_size_inches(DESKTOP_IN - 0.4, 6.4)
        axes = list(fig.subplots(2, 2).ravel())
    font = FONT if narrow else FONT - 1.5
    layers = np.arange(1, DEPTH + 1)
    panels = [(act, what) for act in (dm.Tanh, dm.ReLU) for what in ("activation std", "gradient norm")]
    for ax, (act, what) in zip(axes, panels):
        for scheme, (color, marker) in STYLE.items():
            outs, norms = measure(act, scheme)
            values = [o.std() for o in outs] if what == "activation std" else norms
            ax.semilogy(layers, values, marker=marker, color=color, markersize=5, label=scheme)
        ax.set_title(f"{act.__name__}: {what}", fontsize=font)
        ax.set_xticks([1, 5, 10, 15])
        ax.set_yticks([1e-12, 1e-8, 1e-4, 1, 1e4], ["1e-12", "1e-8", "1e-4", "1", "1e4"])  # as the page prints
        ax.minorticks_off()
        ax.tick_params(labelsize=font - 1)
    for ax in axes[-1:] if narrow else axes[2:]:
        ax.set_xlabel("layer", fontsize=font)
    fig.legend(*axes[0].get_legend_handles_labels(), fontsize=font - 1, ncol=2 if narrow else 4,
               loc="upper center", bbox_to_anchor=(0.5, 1.0), handlelength=1.5, columnspacing=1.0)
    fig.tight_layout(h_pad=1.2, rect=(0, 0, 1, 0.935 if narrow else 0.93))


def draw_histograms(fig, narrow=False):
    """Tanh activations after layers 1, 5 and 15, for three schemes: side by side, or stacked."""
    axes = panels(fig, 3, narrow, height=3.0, panel_height=2.5)
    font = FONT if narrow else FONT - 1.5
    bins = np.linspace(-1, 1, 42)  # 41 bins, the middle one centred on 0
    shown = {1: "#9fa8da", 5: "#3949ab", 15: "#e65100"}
    for ax, scheme in zip(axes, ("too small", "Xavier", "too large")):
        outs, _ = measure(dm.Tanh, scheme)
        for layer, color in shown.items():
            counts, _ = np.histogram(outs[layer - 1], bins=bins)
            ax.stairs(counts / counts.sum(), bins, color=color, linewidth=2.2, label=f"layer {layer}")
        ax.set_title(f"tanh, {scheme}", fontsize=font)
        ax.set_xticks([-1, 0, 1])
        ax.set_ylim(0, None)
        ax.tick_params(labelsize=font - 1)
        ax.set_xlabel("activation value", fontsize=font)
    axes[0].set_ylabel("share of the values", fontsize=font - 1)
    axes[2].legend(fontsize=font - 1, loc="upper center")  # the empty middle of "too large"
    fig.tight_layout(h_pad=1.2)


FIGURES = with_narrow({
    "initialization-deep-stack.svg": draw_deep_stack,
    "initialization-histograms.svg": draw_histograms,
})
