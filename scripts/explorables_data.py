"""Write the playground's data: ``python scripts/explorables_data.py docs/assets/explorables/playground.json``.

The Training chapter's spirals (``make_spirals(100, noise=0.1)``, seed 0) and, for every hidden
width the playground offers, the initial weights of ``2 → width → width → 2`` drawn by
``dismantle.Linear`` from ``default_rng(0)``, in the order ``model.parameters()`` gives them
(the activation has no weights, so Tanh and ReLU start from the same ones). The floats are
written with Python's shortest round-trip repr, so ``JSON.parse`` gives the browser the very same
float64 numbers. ``tests/test_explorables.py`` regenerates the file and compares it byte for byte.
"""

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import dismantle as dm

WIDTHS = (4, 8, 16)
ACTIVATIONS = {"tanh": dm.Tanh, "relu": dm.ReLU}
SEED = 0


def spirals():
    return dm.make_spirals(100, noise=0.1, rng=np.random.default_rng(SEED))


def make_model(width, activation="tanh"):
    """The playground's network, exactly as the browser starts it."""
    rng = np.random.default_rng(SEED)
    act = ACTIVATIONS[activation]
    return dm.Sequential(dm.Linear(2, width, rng=rng), act(),
                         dm.Linear(width, width, rng=rng), act(),
                         dm.Linear(width, 2, rng=rng))


def data():
    x, y = spirals()
    return {
        "x": x.tolist(),
        "y": y.tolist(),
        "init": {str(w): [p.data.tolist() for p in make_model(w).parameters()] for w in WIDTHS},
    }


def text():
    return json.dumps(data(), separators=(",", ":")) + "\n"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(text(), encoding="utf-8")
