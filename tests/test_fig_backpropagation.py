"""The numbers written on the backpropagation graph figure are torch's numbers."""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import fig_backpropagation as fig

TOL = dict(rtol=1e-12, atol=1e-15)


def test_graph_values_and_gradients_match_torch():
    t = fig.trace()
    W1 = torch.tensor(fig.W1, requires_grad=True)
    b1 = torch.tensor(fig.B1, requires_grad=True)
    W2 = torch.tensor(fig.W2, requires_grad=True)
    b2 = torch.tensor(fig.B2, requires_grad=True)
    x = torch.tensor(fig.X, requires_grad=True)
    z1 = x @ W1.T + b1
    h = torch.relu(z1)
    z2 = h @ W2.T + b2
    for v in (z1, h, z2):
        v.retain_grad()
    loss = torch.nn.functional.cross_entropy(z2, torch.from_numpy(fig.Y))
    loss.backward()
    np.testing.assert_allclose(t["L"][0], loss.item(), **TOL, err_msg="L")
    for name, tensor in (("x", x), ("z1", z1), ("h", h), ("z2", z2)):
        np.testing.assert_allclose(t[name][0], tensor.detach().numpy(), **TOL, err_msg=f"{name} value")
        np.testing.assert_allclose(t[name][1], tensor.grad.numpy(), **TOL, err_msg=f"dL/d{name}")
    for name, tensor in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        np.testing.assert_allclose(t[name][1], tensor.grad.numpy(), **TOL, err_msg=f"dL/d{name}")


def test_the_dead_relu_unit_blocks_its_row():
    t = fig.trace()
    assert t["z1"][0][0, 0] < 0, "the caption says the first hidden unit is off"
    assert not t["W1"][1][0].any() and t["W1"][1][1].all()


def test_chain_values_local_derivatives_and_gradients_match_torch():
    v, d, g = fig.chain()
    leaves = {k: torch.tensor(fig.CHAIN[k], dtype=torch.float64, requires_grad=True) for k in ("x", "w", "b")}
    z = leaves["w"] * leaves["x"] + leaves["b"]
    a = torch.sigmoid(z)
    loss = (a - fig.CHAIN["t"]) ** 2
    for t in (z, a):
        t.retain_grad()
    loss.backward()
    for name, tensor in (("z", z), ("a", a), ("L", loss)):
        np.testing.assert_allclose(v[name], tensor.item(), **TOL, err_msg=f"{name} value")
    for name, tensor in (("z", z), ("a", a), *leaves.items()):
        np.testing.assert_allclose(g[name], tensor.grad.item(), **TOL, err_msg=f"dL/d{name}")
    # each local derivative is a ratio of neighbouring gradients (the chain rule the figure states)
    np.testing.assert_allclose(d["da/dz"], g["z"] / g["a"], **TOL)
    np.testing.assert_allclose(d["dL/da"], g["a"], **TOL)
    np.testing.assert_allclose(d["dz/dx"], g["x"] / g["z"], **TOL)


def test_chain_alt_text_states_the_figures_numbers():
    import re

    page = (Path(__file__).resolve().parents[1] / "docs" / "backpropagation.md").read_text(encoding="utf-8")
    alt = re.search(r"!\[([^\]]*)\]\(figures/backpropagation-chain\.svg\)", page)[1]
    v, d, g = fig.chain()
    shown = {f"{x:.4f}" for x in (*v.values(), *d.values(), *g.values())} | {f"{x:g}" for x in v.values()}
    shown |= {f"{x:g}" for x in d.values()} | {"1", "2"}
    stated = re.findall(r"-?\d+(?:\.\d+)?", alt)
    assert stated and set(stated) <= shown, sorted(set(stated) - shown)
