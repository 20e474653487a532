"""The shapes in the gradient-shapes figure are the shapes a real Linear layer produces, and torch's."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import fig_linearity as fig


def test_gradient_shapes_are_the_layers_and_torchs():
    s = fig.gradient_shapes()
    n, fan_in, fan_out = fig.SIZES.values()
    assert len({n, fan_in, fan_out}) == 3, "distinct sizes, or the picture cannot tell the sides apart"
    layer = torch.nn.Linear(fan_in, fan_out, dtype=torch.float64)
    x = torch.zeros(n, fan_in, dtype=torch.float64, requires_grad=True)
    layer(x).backward(torch.ones(n, fan_out, dtype=torch.float64))
    assert s["∂L/∂W"] == tuple(layer.weight.grad.shape) == s["W"] == (fan_out, fan_in)
    assert s["∂L/∂X"] == tuple(x.grad.shape) == s["X"] == (n, fan_in)
    assert s["G"] == (n, fan_out) and s["Gᵀ"] == (fan_out, n)
    assert s["Gᵀ"][1] == s["X"][0] and s["G"][1] == s["W"][0], "the summed sides meet"
