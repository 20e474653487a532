"""The schedules figure draws the runs whose numbers the Regularization page prints.

The page runs its schedules itself (a notebook runs in an empty folder and cannot import the
figure's script); this test keeps the two from drifting apart: the same settings, and the same
learning rate at every step the page prints, for each of the four schedules.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import fig_regularization as fig  # noqa: E402

PAGE = (ROOT / "docs" / "regularization.md").read_text(encoding="utf-8")


def test_page_uses_the_figures_settings():
    assert f"STEPS, PEAK, WARM, GAMMA = 3 * 45, {fig.PEAK}, {fig.WARM}, 0.2" in PAGE
    assert fig.STEPS == 3 * 45


@pytest.mark.parametrize("name", ["constant", "step", "warmup + cosine", "one-cycle"])
def test_page_prints_the_figures_rates(name):
    rates, losses = fig.curves()[name]
    assert len(rates) == len(losses) == fig.STEPS
    shown = "  ".join(f"{rates[i]:.4f}" for i in (0, 13, 45, 90, 134))
    assert f"{name:15s}  {shown}  " in PAGE, f"the page does not show the figure's {name} run: {shown}"


def test_a_changed_schedule_would_be_seen():
    """Planted fault: the rates of another schedule are not what the page prints for this one."""
    rates, _ = fig.curves()["step"]
    shown = "  ".join(f"{rates[i]:.4f}" for i in (0, 13, 45, 90, 134))
    assert f"{'one-cycle':15s}  {shown}  " not in PAGE
