"""The Adam figure draws the walks whose endpoints the Adaptive steps page (adam.md) prints.

The page writes its walkers out (a notebook runs in an empty folder, so it cannot import the
figure's script); this test keeps the two from drifting apart.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import fig_adam as fig

ROOT = Path(__file__).resolve().parents[1]


def test_page_prints_the_figures_endpoints():
    page = (ROOT / "docs" / "adam.md").read_text(encoding="utf-8")
    for title, curvature in fig.BOWLS:
        finals = []
        for label, optimizer, settings, _ in fig.WALKERS:
            path = fig.walk(curvature, optimizer, **settings)
            finals.append(
                f"{label} {fig.height(curvature, path[-1]):.2g} at x = {path[-1, 0]:.2f}"
            )
        line = f"{title}, f after {fig.STEPS} steps:\n    " + ", ".join(finals)
        assert line in page, f"the page does not show the figure's walks:\n{line}"
