"""The kernels figure draws the maps whose ranges the Convolution page prints.

The page computes its maps itself (a notebook cannot import the figure's script); this test
keeps the two from drifting apart: the same digit, the same three kernels, and the same range
of every map as the page prints it.
"""

import re
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


# ---------------------------------------------------------------- "A CNN on the digits"

CNN_PAGE = (ROOT / "docs" / "cnn-digits.md").read_text(encoding="utf-8")
WORDS = "zero one two three four five six seven eight nine".split()


def relu_maps(filters, bias, digit):
    """The first layer's maps by hand: torch's conv2d (an independent oracle), then the ReLU."""
    import torch

    maps = torch.nn.functional.conv2d(torch.tensor(digit).reshape(1, 1, 8, 8), torch.tensor(filters[:, None]),
                                      torch.tensor(bias), padding=1)[0].numpy()
    return np.maximum(maps, 0)


def test_the_filters_figure_draws_seed_0s_first_layer_and_its_maps_of_the_page_digit():
    filters, maps = fig.first_layer()
    with np.load(fig.SEED0) as stored:
        np.testing.assert_array_equal(filters, stored["0.weight"][:, 0])
        bias = stored["0.bias"]
    x_train = fig.dm.load_digits()[0]
    np.testing.assert_allclose(maps, relu_maps(filters, bias, x_train[fig.DIGIT]), rtol=0, atol=1e-12)
    assert f"the {WORDS[int(fig.dm.load_digits()[2][fig.DIGIT])]} of the [previous chapter]" in CNN_PAGE


def test_a_flipped_filter_would_be_seen():
    """Planted fault: maps from flipped filters (a true convolution) are not the figure's."""
    filters, maps = fig.first_layer()
    with np.load(fig.SEED0) as stored:
        bias = stored["0.bias"]
    flipped = relu_maps(filters[:, ::-1, ::-1].copy(), bias, fig.dm.load_digits()[0][fig.DIGIT])
    assert not np.allclose(maps, flipped, rtol=0, atol=1e-12)


def an(digit):
    return "an" if digit == 8 else "a"


def test_the_mistakes_figure_shows_what_the_page_says_seed_0_gets_wrong():
    wrong = fig.mistakes()
    shown = re.search(r"this page's seed 0: test ([\d.]+)%", CNN_PAGE)
    assert round(179 * (1 - float(shown[1]) / 100)) == len(wrong), "the page's seed-0 test score counts these"
    prose = " ".join(CNN_PAGE.split())
    assert f"misses {WORDS[len(wrong)]} of the test pile" in prose
    items = [f"{an(t)} {WORDS[t]} read as {an(g)} {WORDS[g]}" for _, t, g, _ in wrong]
    listed = ", ".join(items[:-1]) + ", and " + items[-1]
    assert listed in prose, listed
    for image, truth, guess, p in wrong:
        assert guess != truth and image.shape == (8, 8) and 0.1 < p <= 1
        assert f"read as {guess}, p = {p:.2f}" in CNN_PAGE, "the alt text gives each reading and its probability"


def test_a_mistake_list_from_another_model_would_be_caught():
    """Planted fault: the untrained network's mistakes are not the ones the page lists."""
    wrong = fig.mistakes()
    x_held, y_held = fig.dm.load_digits()[1], fig.dm.load_digits()[3]
    cut = np.random.default_rng(2).permutation(len(y_held))
    untrained = fig.trained_cnn()
    untrained.load_state_dict({k: np.zeros_like(v) for k, v in untrained.state_dict().items()})
    guess = untrained(x_held[cut[180:]].reshape(-1, 1, 8, 8)).argmax(axis=1)
    assert (guess != y_held[cut[180:]]).sum() != len(wrong)
