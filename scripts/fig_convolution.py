"""Figures for the Convolution chapter (one digit and what three 3x3 kernels make of it) and for
"A CNN on the digits" (the trained first-layer filters and their maps of the digit; the test
digits the drawer's model still gets wrong).

The maps are computed by ``dismantle.functional.conv2d`` (padding 1, so each map is 8 x 8 like
the digit), with the page's kernels and the page's digit; ``tests/test_fig_convolution.py``
keeps the two from drifting apart.
"""

from functools import cache
from pathlib import Path

import numpy as np
from figstyle import DESKTOP_IN, MIN_PT, PHONE_IN, with_narrow

import dismantle as dm

DIGIT = 0  # x_train[DIGIT]: the chapter's digit
SEED0 = Path(__file__).resolve().parents[1] / "benchmarks" / "cnn_digits_seed0.npz"


def kernels():
    """The page's three kernels: vertical edges, horizontal edges, a blur."""
    vertical = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    return {"vertical edges": vertical, "horizontal edges": vertical.T.copy(), "blur": np.full((3, 3), 1 / 9)}


def maps():
    """The digit (8 x 8) and {name: its feature map (8 x 8)} for each kernel."""
    x_train, _, _, _ = dm.load_digits()
    digit = x_train[DIGIT].reshape(1, 1, 8, 8)
    weight = np.stack(list(kernels().values()))[:, None]  # (3, 1, 3, 3): three output channels
    out = dm.functional.conv2d(digit, weight, padding=1)[0]
    return digit[0, 0], dict(zip(kernels(), out))


def draw(fig, narrow=False):
    """The digit in grey, then each feature map in a red-blue scale centred on 0."""
    digit, feature_maps = maps()
    if narrow:
        fig.set_size_inches(PHONE_IN, PHONE_IN + 0.7)
        axes = fig.subplots(2, 2).ravel()
    else:
        fig.set_size_inches(DESKTOP_IN - 0.4, 2.1)
        axes = fig.subplots(1, 4)
    axes[0].imshow(digit, cmap="Greys", vmin=0, vmax=1)
    axes[0].set_title("the digit", fontsize=MIN_PT + 0.5)
    for ax, (name, fmap) in zip(axes[1:], feature_maps.items()):
        top = np.abs(fmap).max()
        ax.imshow(fmap, cmap="RdBu_r", vmin=-top, vmax=top)
        ax.set_title(name, fontsize=MIN_PT + 0.5)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.spines[:].set_visible(False)
    fig.tight_layout()




# ---------------------------------------------------------------- "A CNN on the digits"

def trained_cnn():
    """Seed 0 of the chosen CNN (12-24, cosine schedule), as ``benchmarks/cnn_digits.py`` stored it.

    ``tests/test_cnn_digits.py`` holds the stored weights to a fresh training, and the drawer
    section of the page scores this very model.
    """
    cnn = dm.Sequential(dm.Conv2d(1, 12, 3, padding=1, rng=0), dm.ReLU(), dm.MaxPool2d(2),
                        dm.Conv2d(12, 24, 3, padding=1, rng=0), dm.ReLU(), dm.MaxPool2d(2),
                        dm.Flatten(), dm.Linear(96, 10, rng=0))
    with np.load(SEED0) as weights:
        cnn.load_state_dict({key: weights[key] for key in weights.files})
    return cnn.eval()


@cache
def first_layer():
    """The 12 trained 3 x 3 filters (12, 3, 3) and what the first layer and its ReLU make of the digit (12, 8, 8)."""
    cnn = trained_cnn()
    x_train, _, _, _ = dm.load_digits()
    feature_maps = cnn[1](cnn[0](x_train[DIGIT].reshape(1, 1, 8, 8)))[0]
    return cnn[0].weight.data[:, 0], feature_maps


@cache
def mistakes():
    """The test digits seed 0 gets wrong: [(image 8 x 8, true label, guess, probability of the guess)]."""
    _, x_held, _, y_held = dm.load_digits()
    cut = np.random.default_rng(2).permutation(len(y_held))  # the Training chapter's cut
    x, y = x_held[cut[180:]], y_held[cut[180:]]  # the test pile: shown only in and after the drawer
    with dm.no_grad():
        probs = dm.functional.softmax(trained_cnn()(x.reshape(-1, 1, 8, 8)))  # row by row
    guess = probs.argmax(axis=1)
    return [(x[i].reshape(8, 8), int(y[i]), int(guess[i]), float(probs[i, guess[i]]))
            for i in np.flatnonzero(guess != y)]


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.spines[:].set_visible(False)


def draw_filters(fig, narrow=False):
    """Two blocks of 12 square panels: the filters (red-blue, centred on 0), then their ReLU maps of
    the digit (grey, each map on its own scale from 0 to its largest value)."""
    filters, feature_maps = first_layer()
    cols = 6 if narrow else 12
    block = 12 // cols  # rows of panels per block
    width = PHONE_IN if narrow else DESKTOP_IN - 0.4
    cell, title = width / cols, 0.32  # inches: one panel and its gap; one line of title
    height = 2 * (title + block * cell)
    fig.set_size_inches(width, height)
    top = np.abs(filters).max()
    for b, (name, images) in enumerate([("the 12 trained 3 × 3 filters of the first layer", filters),
                                        ("what each makes of the digit 0 (after ReLU)", feature_maps)]):
        y0 = height - b * (title + block * cell)  # top of this block, inches from the bottom
        fig.text(0.5, (y0 - 0.05) / height, name, ha="center", va="top", fontsize=MIN_PT + 0.5)
        for k, image in enumerate(images):
            r, c = divmod(k, cols)
            left, bottom = c * cell + 0.06 * cell, y0 - title - (r + 1) * cell + 0.06 * cell
            ax = fig.add_axes([left / width, bottom / height, 0.88 * cell / width, 0.88 * cell / height])
            if b == 0:
                ax.imshow(image, cmap="RdBu_r", vmin=-top, vmax=top)
            else:
                ax.imshow(image, cmap="Greys", vmin=0, vmax=max(image.max(), 1e-12))
            _bare(ax)


def draw_mistakes(fig, narrow=False):
    """Each test digit seed 0 reads wrong, titled with the truth, the guess and its probability."""
    wrong = mistakes()
    fig.set_size_inches(PHONE_IN if narrow else 1.9 * len(wrong), 2.3)
    for ax, (image, truth, guess, p) in zip(fig.subplots(1, len(wrong)), wrong):
        ax.imshow(image, cmap="Greys", vmin=0, vmax=1)
        ax.set_title(f"a {truth} read as {guess}\np = {p:.2f}", fontsize=MIN_PT + 0.5)
        _bare(ax)
    fig.tight_layout()


FIGURES = with_narrow({"convolution-kernels.svg": draw, "cnn-digits-filters.svg": draw_filters,
                       "cnn-digits-mistakes.svg": draw_mistakes})
