"""Figure for the Generalization chapter: a large network overfits 100 digits; its loss curves and best epoch."""

import functools

import numpy as np
from figstyle import DESKTOP_IN, MIN_PT, PHONE_IN, with_narrow

import dismantle as dm

N_SMALL, HIDDEN, EPOCHS, BATCH = 100, 256, 150, 20  # the page's overfitting run


def splits():
    """The page's piles: the training images and the validation set (the first 180 of the held-out cut)."""
    x_train, x_held, y_train, y_held = dm.load_digits()
    cut = np.random.default_rng(2).permutation(len(y_held))
    return x_train, y_train, x_held[cut[:180]], y_held[cut[:180]]


def big_model(seed=0):
    """64 → 256 → 256 → 10 with ReLUs: 85,002 weights for 100 training images."""
    rng = np.random.default_rng(seed)
    return dm.Sequential(dm.Linear(64, HIDDEN, rng=rng), dm.ReLU(), dm.Linear(HIDDEN, HIDDEN, rng=rng), dm.ReLU(),
                         dm.Linear(HIDDEN, 10, rng=rng))


@functools.cache
def curves():
    """Per epoch: (training loss, training accuracy, validation loss, validation accuracy), shape (EPOCHS, 4)."""
    x_train, y_train, x_val, y_val = splits()
    x_small, y_small = x_train[:N_SMALL], y_train[:N_SMALL]
    model, loss_fn = big_model(), dm.CrossEntropyLoss()
    opt, rng = dm.SGD(model.parameters(), lr=0.1, momentum=0.9), np.random.default_rng(1)
    rows = []
    for _ in range(EPOCHS):
        dm.fit(model, loss_fn, opt, x_small, y_small, BATCH, rng)
        rows.append(dm.evaluate(model, loss_fn, x_small, y_small) + dm.evaluate(model, loss_fn, x_val, y_val))
    return np.array(rows)


def draw_curves(fig, narrow=False):
    """Training and validation loss per epoch (the axis cut at 1), the best validation epoch marked."""
    fig.set_size_inches(PHONE_IN, 3.6) if narrow else fig.set_size_inches(DESKTOP_IN - 1.0, 3.4)
    rows = curves()
    epochs = np.arange(1, EPOCHS + 1)
    best = int(np.argmin(rows[:, 2])) + 1
    ax = fig.add_subplot()
    ax.plot(epochs, rows[:, 0], label="training loss", linewidth=1.6)
    ax.plot(epochs, rows[:, 2], label="validation loss", linewidth=1.6)
    ax.axvline(best, color="#222222", linestyle="--", linewidth=1.0)
    ax.plot(best, rows[best - 1, 2], "o", color="#222222", markersize=5)
    ax.annotate(f"best epoch {best}", (best, rows[best - 1, 2]), xytext=(6, -28), textcoords="offset points",
                fontsize=MIN_PT + 0.5)
    ax.set_ylim(0, 1.0)  # the first epochs' losses (up to about 2.3) run off the top
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.legend(loc="upper right", fontsize=MIN_PT + 0.5)
    fig.tight_layout()


FIGURES = with_narrow({"generalization-overfitting.svg": draw_curves})
