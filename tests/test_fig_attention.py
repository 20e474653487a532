"""The attention figure draws the trained transformer of the chapter's table, on the example the page prints.

The figure loads seed 0's weights from benchmarks/recall_seed0.npz (training them would cost
the figure seconds); the page trains its own seed 0. This test keeps the three together: the
stored weights score the validation pile as recall.json's seed-0 row says (loss to 1e-9,
accuracy exactly), and the question's row of attention weights that the figure draws is the
row the page prints (two decimals), for the same dictionary. Planted: a weight file from a
model that was never trained, and another dictionary's row, are each caught.
"""

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import fig_attention as fig  # noqa: E402

PAGE = (ROOT / "docs" / "transformer.md").read_text(encoding="utf-8")
STORED = json.loads(fig.recall.RESULTS.read_text())["final"]["transformer"][0]


def scored(model):
    return fig.recall.score(model, fig.recall.piles()[1])


def test_the_stored_weights_are_seed_0_of_the_table():
    loss, accuracy = scored(fig.trained())
    assert abs(loss - STORED["val_loss"]) < 1e-9
    assert accuracy == STORED["val"]


def test_an_untrained_model_would_be_caught():
    loss, _ = scored(fig.recall.Recall(rng=0))
    assert abs(loss - STORED["val_loss"]) > 1e-3


def shown(labels, weights):
    """The page's line for the question's row: "k:v w, ... | q:? w"."""
    row = weights[-1]
    return ", ".join(f"{label} {w:.2f}" for label, w in zip(labels[:-1], row)) + f" | {labels[-1]} {row[-1]:.2f}"


def test_the_page_prints_the_figures_row():
    labels, weights = fig.example()
    assert weights.shape == (7, 7)
    np.testing.assert_allclose(weights.sum(axis=1), 1, rtol=0, atol=1e-12)
    assert np.all(np.triu(weights, 1) == 0)  # the causal mask: nothing above the diagonal
    assert shown(labels, weights) in PAGE, shown(labels, weights)


def test_another_dictionarys_row_would_be_seen():
    keys, values, question, _ = (a[1:2] for a in fig.recall.piles()[2])
    labels = [f"{k}:{v}" for k, v in zip(keys[0], values[0])] + [f"{question[0]}:?"]
    weights = fig.attention(fig.trained(), keys, values, question)[0]
    assert shown(labels, weights) not in PAGE
