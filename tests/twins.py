"""Torch twins: the same module in float64 torch, built from *our* parameters.

Every parity test compares a `dismantle` module with its twin, so the twin is built in one
place: a `Linear` becomes a float64 `torch.nn.Linear` holding copies of our weight and bias,
an activation its torch counterpart, and a `Sequential` a `torch.nn.Sequential` of twins.
"""

import torch

import dismantle as dm

ACTIVATIONS = {
    dm.ReLU: torch.nn.ReLU,
    dm.Sigmoid: torch.nn.Sigmoid,
    dm.Tanh: torch.nn.Tanh,
    dm.Softmax: lambda: torch.nn.Softmax(dim=-1),
}


def torch_linear(layer):
    """A float64 `torch.nn.Linear` with `layer`'s weight and bias."""
    gold = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
    with torch.no_grad():
        gold.weight.copy_(torch.from_numpy(layer.weight.data))
        gold.bias.copy_(torch.from_numpy(layer.bias.data))
    return gold


def torch_twin(module):
    """The torch twin of a `Linear`, an activation, or a `Sequential` of them."""
    if isinstance(module, dm.Linear):
        return torch_linear(module)
    if isinstance(module, dm.Sequential):
        return torch.nn.Sequential(*(torch_twin(m) for m in module))
    return ACTIVATIONS[type(module)]()


def load_into_torch(gold, module):
    """Copy `module`'s state_dict (parameters and buffers, torch's names) into the torch module `gold`; return it.

    `strict=True`: a key one side has and the other lacks fails here, so the twin is also a
    test of the names.
    """
    gold.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in module.state_dict().items()}, strict=True)
    return gold
