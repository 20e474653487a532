"""Figure for the transformer chapter: the causal mask, and the trained block's attention on one dictionary.

The weights are seed 0 of the chosen transformer of ``benchmarks/recall.py`` (stored by its
``--write`` in ``benchmarks/recall_seed0.npz``: training them here would cost seconds); the
dictionary is the first of the test pile. ``tests/test_fig_attention.py`` checks that these
weights answer the test pile as the script's table says, and that the page prints this
figure's last row.
"""

import sys
from pathlib import Path

import numpy as np
from figstyle import COLORS, DESKTOP_IN, MIN_PT, PHONE_IN, with_narrow
from matplotlib.patches import Rectangle

import dismantle as dm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import recall  # noqa: E402

EXAMPLE = 0  # the first dictionary of the test pile


def trained():
    """The trained transformer of the chapter's seed 0."""
    model = recall.Recall(rng=0)
    with np.load(recall.TRAINED) as state:
        model.load_state_dict(dict(state))
    return model


def attention(model, keys, values, question):
    """The block's attention weights (N, 7, 7), averaged over its two heads, and the token labels."""
    k, v = recall.as_tokens(keys, values, question)
    block = model.block
    with dm.no_grad():
        x = block.norm1(model.key_embed(k) + model.value_embed(v))
        _, weights = block.self_attn(x, x, x, attn_mask=model.mask, need_weights=True)
    return weights


def example():
    """The labels of the example's seven slots ("3:7", ..., "5:?") and its (7, 7) attention weights."""
    keys, values, question, _ = (a[EXAMPLE:EXAMPLE + 1] for a in recall.piles()[2])
    labels = [f"{k}:{v}" for k, v in zip(keys[0], values[0])] + [f"{question[0]}:?"]
    return labels, attention(trained(), keys, values, question)[0]


def draw(fig, narrow=False):
    """Left, the causal mask (grey = may look); right, the learned weights (0 to 1), the question's row framed."""
    labels, weights = example()
    mask = ~recall.Recall().mask
    if narrow:
        fig.set_size_inches(PHONE_IN, 2 * PHONE_IN + 0.5)
        axes = fig.subplots(2, 1)
    else:
        fig.set_size_inches(DESKTOP_IN - 0.6, 3.4)
        axes = fig.subplots(1, 2)
    panels = ((mask.astype(float), "causal mask: grey = may look", "Greys", 2.2),
              (weights, "learned attention weights", "Blues", 1))
    for ax, (grid, title, cmap, top) in zip(axes, panels):
        ax.imshow(grid, cmap=cmap, vmin=0, vmax=top)
        ax.set_title(title, fontsize=MIN_PT + 0.5)
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=MIN_PT)
        ax.set_yticks(range(len(labels)), labels, fontsize=MIN_PT)
        ax.set_xlabel("key (looked at)", fontsize=MIN_PT)
        ax.set_ylabel("query (looking)", fontsize=MIN_PT)
        ax.grid(False)
        ax.spines[:].set_visible(False)
    last = len(labels) - 1
    top = int(np.argmax(weights[last]))
    axes[1].text(top, last, f"{weights[last, top]:.2f}", ha="center", va="center", color="white",
                 fontsize=MIN_PT)
    axes[1].add_patch(Rectangle((-0.5, last - 0.5), len(labels), 1, fill=False, edgecolor=COLORS[1],
                                linewidth=1.5))  # the question's row: the only one the head reads
    fig.tight_layout()


FIGURES = with_narrow({"attention-recall.svg": draw})
