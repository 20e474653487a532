"""Figure for the Convolution chapter: one digit and what three 3x3 kernels make of it.

The maps are computed by ``dismantle.functional.conv2d`` (padding 1, so each map is 8 x 8 like
the digit), with the page's kernels and the page's digit; ``tests/test_fig_convolution.py``
keeps the two from drifting apart.
"""

import numpy as np
from figstyle import DESKTOP_IN, MIN_PT, PHONE_IN, with_narrow

import dismantle as dm

DIGIT = 0  # x_train[DIGIT]: the chapter's digit


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


FIGURES = with_narrow({"convolution-kernels.svg": draw})
