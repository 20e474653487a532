"""The overfitting figure draws the run whose numbers the Generalization page prints.

The page trains its large network itself (a notebook runs in an empty folder, so it cannot
import the figure's script); this test keeps the two from drifting apart.
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import fig_overfitting as fig  # noqa: E402


def test_page_prints_the_figures_run():
    page = (ROOT / "docs" / "generalization.md").read_text(encoding="utf-8")
    rows = fig.curves()
    best = int(np.argmin(rows[:, 2])) + 1
    lines = [
        f"training accuracy first reaches 100% at epoch {np.argmax(rows[:, 1] == 1.0) + 1}",
        f"validation loss: lowest {rows[best - 1, 2]:.3f} at epoch {best}, "
        f"then {rows[49, 2]:.3f} at epoch 50 and {rows[-1, 2]:.3f} at epoch {fig.EPOCHS}",
        f"epoch {fig.EPOCHS}: training loss {rows[-1, 0]:.5f}, accuracy {rows[-1, 1]:.0%}; "
        f"validation accuracy {rows[-1, 3]:.1%}",
        f"best epoch {best}",
    ]
    for line in lines:
        assert line in page, f"the page does not show the figure's run: {line}"
