"""Figures for the Training chapter (the digits run of the page, its loss curves and its mistakes) and the
spirals of the Generalization chapter."""

import functools

import numpy as np
from figstyle import DESKTOP_IN, MIN_PT, PHONE_IN, panels, with_narrow

import dismantle as dm

EPOCHS, BATCH, SEED = 15, 32, 1  # the page's run, so the pictures show the numbers it prints


@functools.cache
def train():
    """Train the page's 64-64-10 network; return (model, per-epoch train/validation losses, validation data)."""
    x_train, x_held, y_train, y_held = dm.load_digits()
    cut = np.random.default_rng(2).permutation(len(y_held))  # the page's cut: validation is the first 180
    x_val, y_val = x_held[cut[:180]], y_held[cut[:180]]
    rng = np.random.default_rng(0)
    model = dm.Sequential(dm.Linear(64, 64, rng=rng), dm.ReLU(), dm.Linear(64, 10, rng=rng))
    loss_fn, batch_rng = dm.CrossEntropyLoss(), np.random.default_rng(SEED)
    opt = dm.SGD(model.parameters(), lr=0.05, momentum=0.9)
    curves = []
    for _ in range(EPOCHS):
        losses = dm.fit(model, loss_fn, opt, x_train, y_train, BATCH, batch_rng)
        curves.append((np.mean(losses), dm.evaluate(model, loss_fn, x_val, y_val)[0]))
    return model, np.array(curves), x_val, y_val


def draw_curves(fig, narrow=False):
    """Mean training loss of each epoch's batches, and the validation loss after each epoch."""
    fig.set_size_inches(PHONE_IN, 3.8) if narrow else fig.set_size_inches(DESKTOP_IN - 0.8, 3.4)
    _, curves, _, _ = train()
    ax = fig.add_subplot()
    epochs = np.arange(1, EPOCHS + 1)
    ax.plot(epochs, curves[:, 0], "o-", label="training loss (mean over the epoch's batches)", markersize=4)
    ax.plot(epochs, curves[:, 1], "s-", label="validation loss (after the epoch)", markersize=4)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_ylim(0, None)
    ax.set_xticks(epochs[::2])
    if narrow:  # the long legend goes under the plot, one entry per line
        ax.legend(loc="upper center", bbox_to_anchor=(0.42, -0.2), fontsize=MIN_PT,
                  labels=["training loss (mean over\nthe epoch's batches)", "validation loss (after the epoch)"])
    else:
        ax.legend()
    fig.tight_layout()


def draw_mistakes(fig, narrow=False):
    """Every misclassified validation digit, titled with the network's answer and the true label."""
    model, _, x_val, y_val = train()
    predicted = model(x_val).argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_val)
    cols = min(3 if narrow else 5, len(wrong))
    rows = -(-len(wrong) // cols)
    fig.set_size_inches(PHONE_IN if narrow else 1.3 * cols, (1.3 if narrow else 1.5) * rows)
    for k, i in enumerate(wrong):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.imshow(x_val[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"said {predicted[i]}, is {y_val[i]}", fontsize=10)
        ax.set_axis_off()
    fig.tight_layout()


def spiral_models():
    """The Generalization page's first section: a straight line and a 2-32-32-2 Tanh network, trained on the spirals."""
    x, y = dm.make_spirals(100, noise=0.1, rng=np.random.default_rng(0))
    rng = np.random.default_rng(0)
    models = {
        "straight line": dm.Linear(2, 2, rng=rng),
        "two hidden layers": dm.Sequential(dm.Linear(2, 32, rng=rng), dm.Tanh(), dm.Linear(32, 32, rng=rng),
                                           dm.Tanh(), dm.Linear(32, 2, rng=rng)),
    }
    for model in models.values():
        opt = dm.SGD(model.parameters(), lr=0.1, momentum=0.9)
        dm.fit(model, dm.CrossEntropyLoss(), opt, x, y, 20, np.random.default_rng(1), epochs=150)
    return models, x, y


def draw_spirals(fig, narrow=False):
    """The two spiral arms over the class each model predicts at every point of the plane (phone: stacked)."""
    models, x, y = spiral_models()
    grid = np.linspace(-1.15, 1.15, 161)
    gx, gy = np.meshgrid(grid, grid)
    plane = np.column_stack([gx.ravel(), gy.ravel()])
    for ax, (name, model) in zip(panels(fig, 2, narrow, height=3.4, panel_height=3.3), models.items()):
        predicted = model(plane).argmax(axis=1).reshape(gx.shape)
        ax.imshow(predicted, origin="lower", extent=(grid[0], grid[-1], grid[0], grid[-1]), cmap="coolwarm",
                  alpha=0.35, vmin=0, vmax=1, interpolation="nearest")
        for label, color in ((0, "#3949ab"), (1, "#c62828")):
            ax.plot(*x[y == label].T, "o", color=color, markersize=3)
        ax.set_title(name, fontsize=10.5)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    fig.tight_layout()


FIGURES = with_narrow({
    "training-loss-curves.svg": draw_curves,
    "training-mistakes.svg": draw_mistakes,
    "generalization-spirals.svg": draw_spirals,
})
