"""Property tests: every module, loss and a random-depth MLP against torch float64 and gradcheck.

Shapes are drawn from batch 1..8 and features 1..8. Values cover [-4, 4] and, on purpose, the
neighbourhood of ReLU's kink: torch parity also sees exact zeros (where ReLU' = 0, as in torch);
finite differences only see values at least 1e-3 away from 0, where ReLU is smooth for a step
of 1e-6. ``derandomize=True`` makes the examples, their count and the run time the same on
every run; the whole file stays well under 30 s on two cores.
"""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dismantle as dm
from tests.twins import torch_linear, torch_twin

PROPS = settings(max_examples=50, deadline=None, derandomize=True)
TOL = dict(rtol=1e-10, atol=1e-12)  # float64 on both sides: only the order of operations differs
KINK = 1e-3  # finite differences need |x| >= KINK around ReLU's corner

near_kink = st.floats(KINK, 1e-2) | st.floats(-1e-2, -KINK)
wide = st.floats(KINK, 4) | st.floats(-4, -KINK)
smooth_values = near_kink | wide  # safe for finite differences: never within KINK of 0
any_values = smooth_values | st.just(0.0)  # torch parity also checks the kink itself


@st.composite
def batches(draw, values=smooth_values):
    """A float64 array of shape (batch 1..8, features 1..8)."""
    shape = (draw(st.integers(1, 8)), draw(st.integers(1, 8)))
    return draw(hnp.arrays(np.float64, shape, elements=values))


def upstream(x, seed):
    """A seeded upstream gradient G = dL/d(output), shaped like x."""
    return np.random.default_rng(seed).normal(size=x.shape)


ACTIVATIONS = {
    "ReLU": (dm.ReLU, torch.nn.ReLU),
    "Sigmoid": (dm.Sigmoid, torch.nn.Sigmoid),
    "Tanh": (dm.Tanh, torch.nn.Tanh),
    "Softmax": (dm.Softmax, lambda: torch.nn.Softmax(dim=-1)),
}
seeds = st.integers(0, 2**32 - 1)


@pytest.mark.parametrize("name", ACTIVATIONS)
@PROPS
@given(x=batches(any_values), seed=seeds)
def test_activation_matches_torch(name, x, seed):
    ours, theirs = ACTIVATIONS[name][0](), ACTIVATIONS[name][1]()
    g = upstream(x, seed)
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours(x), ty.detach().numpy(), **TOL, err_msg=f"{name} output")
    np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), **TOL, err_msg=f"{name} dL/dx")


@pytest.mark.parametrize("name", ACTIVATIONS)
@PROPS
@given(x=batches(), seed=seeds)
def test_activation_passes_gradcheck(name, x, seed):
    module, g = ACTIVATIONS[name][0](), upstream(x, seed)
    module(x)
    dx = module.backward(g)
    assert dm.gradcheck(lambda *_: float(np.sum(g * module(x))), [x], [dx])  # L = sum(G * y)


@PROPS
@given(x=batches(), fout=st.integers(1, 8), seed=seeds)
def test_linear_matches_torch_and_gradcheck(x, fout, seed):
    layer = dm.Linear(x.shape[1], fout, rng=np.random.default_rng(seed))
    g = np.random.default_rng(seed + 1).normal(size=(x.shape[0], fout))
    gold = torch_linear(layer)
    tx = torch.tensor(x, requires_grad=True)
    gold(tx).backward(torch.from_numpy(g))
    layer(x)
    dx = layer.backward(g)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL, err_msg="dL/dx")
    np.testing.assert_allclose(layer.weight.grad, gold.weight.grad.numpy(), **TOL, err_msg="dL/dW")
    np.testing.assert_allclose(layer.bias.grad, gold.bias.grad.numpy(), **TOL, err_msg="dL/db")
    loss = lambda *_: float(np.sum(g * layer(x)))  # noqa: E731
    assert dm.gradcheck(loss, [x, layer.weight.data, layer.bias.data], [dx, layer.weight.grad, layer.bias.grad])


@st.composite
def logits_and_labels(draw):
    z = draw(batches())
    labels = draw(hnp.arrays(np.int64, z.shape[0], elements=st.integers(0, z.shape[1] - 1)))
    return z, labels


@PROPS
@given(data=logits_and_labels())
def test_cross_entropy_matches_torch_and_gradcheck(data):
    z, y = data
    fn = dm.CrossEntropyLoss()
    tz = torch.tensor(z, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tz, torch.from_numpy(y))
    tloss.backward()
    loss = fn(z, y)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, tloss.item(), **TOL, err_msg="loss")
    dz = fn.backward()
    np.testing.assert_allclose(dz, tz.grad.numpy(), **TOL, err_msg="dL/dz")
    assert dm.gradcheck(lambda *_: fn(z, y), [z], [dz])


@PROPS
@given(x=batches(), seed=seeds)
def test_mse_matches_torch_and_gradcheck(x, seed):
    target = upstream(x, seed)
    fn = dm.MSELoss()
    tx = torch.tensor(x, requires_grad=True)
    tloss = torch.nn.functional.mse_loss(tx, torch.from_numpy(target))
    tloss.backward()
    loss = fn(x, target)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, tloss.item(), **TOL, err_msg="loss")
    dx = fn.backward()
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL, err_msg="dL/dx")
    assert dm.gradcheck(lambda *_: fn(x, target), [x], [dx])


@st.composite
def mlps(draw):
    """Linear (activation Linear)*: depth 1..4 Linear layers, widths 1..8, any hidden activation."""
    widths = draw(st.lists(st.integers(1, 8), min_size=2, max_size=5))
    acts = draw(st.lists(st.sampled_from(["ReLU", "Sigmoid", "Tanh"]), min_size=len(widths) - 2,
                         max_size=len(widths) - 2))
    rng = np.random.default_rng(draw(seeds))
    modules = [dm.Linear(widths[0], widths[1], rng=rng)]
    for act, a, b in zip(acts, widths[1:], widths[2:]):
        modules += [ACTIVATIONS[act][0](), dm.Linear(a, b, rng=rng)]
    return dm.Sequential(*modules)


@PROPS
@given(net=mlps(), data=st.data())
def test_random_depth_mlp_matches_torch_and_gradcheck(net, data):
    n = data.draw(st.integers(1, 8), label="batch")
    x = data.draw(hnp.arrays(np.float64, (n, net[0].in_features), elements=smooth_values), label="x")
    y = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, net[-1].out_features - 1)), label="y")
    h = x
    for m in net:  # keep every ReLU input off the kink, where central differences straddle the corner
        assume(not isinstance(m, dm.ReLU) or np.abs(h).min() >= KINK)
        h = m(h)

    gold = torch_twin(net)
    tx = torch.tensor(x, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(gold(tx), torch.from_numpy(y))
    tloss.backward()
    fn = dm.CrossEntropyLoss()
    loss = fn(net(x), y)
    dx = net.backward(fn.backward())

    np.testing.assert_allclose(loss, tloss.item(), **TOL, err_msg="loss")
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL, err_msg="dL/dx")
    params = net.parameters()
    for k, (p, q) in enumerate(zip(params, gold.parameters(), strict=True)):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), **TOL, err_msg=f"parameter {k} grad")
    assert dm.gradcheck(lambda *_: fn(net(x), y), [x] + [p.data for p in params], [dx] + [p.grad for p in params])
