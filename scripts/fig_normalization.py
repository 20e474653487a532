"""Figures and seed table for the Normalization chapter: a 20-layer MLP on the digits, four ways.

The page runs seed 0 itself (a notebook cannot import this script); `tests/test_fig_normalization.py`
holds the page's printed numbers to the runs here, and asserts the page's table over three seeds,
which `python scripts/fig_normalization.py` prints.
"""

import functools

import numpy as np
from figstyle import COLORS, DESKTOP_IN, MIN_PT, PHONE_IN, with_narrow
from matplotlib.ticker import FuncFormatter, NullFormatter

import dismantle as dm

DEPTH, WIDTH, EPOCHS, BATCH, LR, SEEDS = 20, 32, 8, 128, 1e-3, (0, 1, 2)  # the page's settings
KINDS = ("plain", "BatchNorm", "LayerNorm", "residual", "LN+residual")


class Residual(dm.Module):
    """y = x + f(x): the page's block."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return x + self.f(x)

    def backward(self, grad_output, *, input_grad=True):
        return grad_output + self.f.backward(grad_output)


BLOCKS = {  # what follows each of the 18 hidden Linear(32, 32) layers, as on the page
    "plain": lambda layer: [layer, dm.ReLU()],
    "BatchNorm": lambda layer: [layer, dm.BatchNorm1d(WIDTH), dm.ReLU()],
    "LayerNorm": lambda layer: [layer, dm.LayerNorm(WIDTH), dm.ReLU()],
    "residual": lambda layer: [Residual(dm.Sequential(layer, dm.ReLU()))],
    "LN+residual": lambda layer: [Residual(dm.Sequential(dm.LayerNorm(WIDTH), layer, dm.ReLU()))],
}


def build(kind, seed):
    """20 Linear layers: 64 -> 32, eighteen 32 -> 32 (each with its BLOCKS entry), 32 -> 10."""
    rng = np.random.default_rng(seed)
    modules = [dm.Linear(64, WIDTH, rng=rng), dm.ReLU()]
    for _ in range(DEPTH - 2):
        modules += BLOCKS[kind](dm.Linear(WIDTH, WIDTH, rng=rng))
    return dm.Sequential(*modules, dm.Linear(WIDTH, 10, rng=rng))


@functools.cache
def data():
    """(x_train, y_train, x_val, y_val): the Training chapter's validation pile, as on the page."""
    x_train, x_held, y_train, y_held = dm.load_digits()
    cut = np.random.default_rng(2).permutation(len(y_held))
    return x_train, y_train, x_held[cut[:180]], y_held[cut[:180]]


def layer_stats(kind, seed=0):
    """Per hidden layer, at initialization, on the first 256 training images: (std, spread, gradient norm)."""
    x_train, y_train, _, _ = data()
    net, loss_fn = build(kind, seed), dm.CrossEntropyLoss()
    a, marks, stds, spreads = x_train[:256], [], [], []
    for k, m in enumerate(net):
        a = m(a)
        if isinstance(m, (dm.ReLU, Residual)):
            marks.append(k)
            stds.append(a.std())
            spreads.append(a.std(axis=0).mean())  # how much the images differ, feature by feature
    loss_fn(a, y_train[:256])
    g, norms = loss_fn.backward(), {}
    for k in reversed(range(len(net))):
        if k in marks:
            norms[k] = np.linalg.norm(g)
        g = net[k].backward(g)
    return np.array(stds), np.array(spreads), np.array([norms[k] for k in marks])


@functools.cache
def train(kind, seed):
    """(every mini-batch loss, final training loss in eval mode, validation accuracy per epoch)."""
    x_train, y_train, x_val, y_val = data()
    net, loss_fn = build(kind, seed), dm.CrossEntropyLoss()
    history = dm.fit(net, loss_fn, dm.Adam(net.parameters(), lr=LR), x_train, y_train, BATCH, rng=seed,
                     epochs=EPOCHS, validation=(x_val, y_val), restore_best=False)
    return np.array(history), dm.evaluate(net, loss_fn, x_train, y_train)[0], np.array(history.val_accuracy)


def seed_table():
    """{kind: (mean loss, std loss, mean accuracy, std accuracy)} over SEEDS (std with ddof=1)."""
    out = {}
    for kind in KINDS:
        losses = [train(kind, s)[1] for s in SEEDS]
        accs = [train(kind, s)[2][-1] for s in SEEDS]
        out[kind] = (np.mean(losses), np.std(losses, ddof=1), np.mean(accs), np.std(accs, ddof=1))
    return out


def table_rows():
    """The page's Markdown rows of the seed table."""
    return [f"| {kind} | {m:.2f} ± {s:.2f} | {100 * a:.1f}% ± {100 * sa:.1f} |"
            for kind, (m, s, a, sa) in seed_table().items()]


def plain_labels(axis):
    """Plain tick labels ("0.1"), not mathtext powers whose exponents render below 11 px."""
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def draw_layers(fig, narrow=False):
    """Per layer at initialization: activation std, spread between images, gradient norm."""
    fig.set_size_inches(PHONE_IN, 8.2) if narrow else fig.set_size_inches(DESKTOP_IN, 3.6)
    axes = fig.subplots(3, 1, sharex=True) if narrow else fig.subplots(1, 3)
    titles = ("activation std", "spread between images", "gradient norm")
    for kind, color in zip(KINDS, COLORS):
        stats = layer_stats(kind)
        for ax, values in zip(axes, stats):
            ax.plot(np.arange(1, len(values) + 1), values, color=color, linewidth=1.6, label=kind)
    for ax, title in zip(axes, titles):
        ax.set_yscale("log")
        plain_labels(ax.yaxis)
        ax.set_title(title, fontsize=10.5)
    for ax in axes[-1:] if narrow else axes:
        ax.set_xlabel("hidden layer")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2 if narrow else 5, fontsize=MIN_PT)
    fig.tight_layout(rect=(0, 0.1 if narrow else 0.09, 1, 1))


def draw_loss(fig, narrow=False):
    """Training loss per epoch (mean over the epoch's mini-batches), seed 0."""
    fig.set_size_inches(PHONE_IN, 3.2) if narrow else fig.set_size_inches(DESKTOP_IN - 1.4, 3.2)
    ax = fig.subplots()
    for kind, color in zip(KINDS, COLORS):
        losses = train(kind, 0)[0].reshape(EPOCHS, -1).mean(axis=1)
        ax.plot(np.arange(1, EPOCHS + 1), losses, color=color, marker="o", markersize=3.5, label=kind)
    ax.set_yscale("log")
    ax.set_yticks([0.2, 0.5, 1, 2, 4])
    plain_labels(ax.yaxis)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.legend(loc="lower left", fontsize=MIN_PT)
    fig.tight_layout()


FIGURES = with_narrow({"normalization-layers.svg": draw_layers, "normalization-loss.svg": draw_loss})

if __name__ == "__main__":
    print("\n".join(table_rows()))
