"""The kernels figure draws the maps whose ranges the Convolution page prints.

The page computes its maps itself (a notebook cannot import the figure's script); this test
keeps the two from drifting apart: the same digit, the same three kernels, and the same range
of every map as the page prints it.
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import fig_convolution as fig  # noqa: E402

PAGE = (ROOT / "docs" / "convolution.md").read_text(encoding="utf-8")


def test_page_uses_the_figures_digit_and_kernels():
    assert f"digit = x_train[{fig.DIGIT}].reshape(8, 8)" in PAGE
    assert "vertical = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])" in PAGE
    np.testing.assert_array_equal(fig.kernels()["horizontal edges"], fig.kernels()["vertical edges"].T)
    assert '"horizontal edges": vertical.T.copy()' in PAGE and '"blur": np.full((3, 3), 1 / 9)' in PAGE


def shown(name, fmap):
    return f"{name:16s} from {fmap.min():5.2f} to {fmap.max():5.2f}"


def test_page_prints_the_figures_maps():
    digit, maps = fig.maps()
    assert digit.shape == (8, 8) and len(maps) == 3
    for name, fmap in maps.items():
        assert fmap.shape == (8, 8)
        assert shown(name, fmap) in PAGE, f"the page does not show the figure's {name} map: {shown(name, fmap)}"


def test_a_changed_kernel_would_be_seen():
    """Planted fault: a flipped vertical kernel gives another range than the page prints."""
    digit, maps = fig.maps()
    assert shown("vertical edges", -maps["vertical edges"]) not in PAGE
