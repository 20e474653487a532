"""ReLU, Sigmoid, Tanh and Softmax layers against torch.nn (float64) and finite differences."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from dismantle import functional as F
from tests.twins import torch_twin

TOL = dict(rtol=1e-12, atol=1e-15)  # float64 on both sides: only summation order differs

PAIRS = {
    "ReLU": (dm.ReLU, torch.nn.ReLU),
    "Sigmoid": (dm.Sigmoid, torch.nn.Sigmoid),
    "Tanh": (dm.Tanh, torch.nn.Tanh),
    "Softmax": (dm.Softmax, lambda: torch.nn.Softmax(dim=-1)),
}


@pytest.mark.parametrize("name", PAIRS)
@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([0.1, 1.0, 10.0]),
)
def test_forward_and_backward_match_torch(name, shape, seed, scale):
    ours, theirs = PAIRS[name][0](), PAIRS[name][1]()
    rng = np.random.default_rng(seed)
    z, g = rng.normal(scale=scale, size=shape), rng.normal(size=shape)
    tz = torch.tensor(z, requires_grad=True)
    ta = theirs(tz)
    ta.backward(torch.from_numpy(g))  # a non-scalar output needs the upstream gradient spelled out

    a = ours(z)
    dz = ours.backward(g)
    np.testing.assert_allclose(a, ta.detach().numpy(), **TOL, err_msg=f"{name} output")
    np.testing.assert_allclose(dz, tz.grad.numpy(), **TOL, err_msg=f"{name} dL/dz")


@pytest.mark.parametrize("name", PAIRS)
def test_backward_passes_gradcheck(name):
    rng = np.random.default_rng(0)
    z, g = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep central differences off ReLU's kink
    layer = PAIRS[name][0]()
    layer(z)
    dz = layer.backward(g)
    assert dm.gradcheck(lambda z: float(np.sum(g * layer(z))), [z], [dz])  # L = sum(g * a), so dL/da = g


def test_softmax_backward_is_the_jacobian_vector_product():
    rng = np.random.default_rng(1)
    z, g = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    layer = dm.Softmax()
    layer(z)
    via_jacobian = np.einsum("nij,ni->nj", F.softmax_jacobian(z), g)  # g^T J, row by row
    np.testing.assert_allclose(layer.backward(g), via_jacobian, rtol=1e-12, atol=1e-15)


def test_softmax_rows_of_the_jacobian_by_one_hot_backward():
    z = np.array([[4.0, 2.0]])
    layer = dm.Softmax()
    rows = []
    for i in range(2):  # one forward per backward, as in torch without retain_graph
        layer(z)
        rows.append(layer.backward(np.eye(2)[[i]])[0])  # G = e_i picks row i of J (J is symmetric)
    tz = torch.tensor(z, requires_grad=True)
    ts = torch.softmax(tz, dim=-1)
    for i in range(2):
        (torch_row,) = torch.autograd.grad(ts[0, i], tz, retain_graph=True)
        np.testing.assert_allclose(rows[i], torch_row.numpy()[0], **TOL, err_msg=f"Jacobian row {i}")


def test_relu_backward_at_exactly_zero_matches_torch():
    z = np.array([[-0.2, 0.0, 0.6]])
    g = np.array([[-1.0, -1.0, -1.0]])
    layer = dm.ReLU()
    layer(z)
    tz = torch.tensor(z, requires_grad=True)
    torch.relu(tz).backward(torch.from_numpy(g))
    dz = layer.backward(g)
    np.testing.assert_array_equal(dz, tz.grad.numpy())
    np.testing.assert_array_equal(np.signbit(dz), np.signbit(tz.grad.numpy()))  # +0.0 where blocked, as torch


def test_relu_backward_blocks_an_infinite_gradient_like_torch():
    z = np.array([[-1.0, 2.0, -3.0, 0.5]])
    g = np.array([[np.inf, -np.inf, -np.inf, 1.0]])
    layer = dm.ReLU()
    layer(z)
    tz = torch.tensor(z, requires_grad=True)
    torch.relu(tz).backward(torch.from_numpy(g))
    np.testing.assert_array_equal(layer.backward(g), tz.grad.numpy())  # 0 where blocked, not inf * 0 = NaN


def test_a_small_network_matches_torch():
    rng = np.random.default_rng(2)
    net = dm.Sequential(
        dm.Linear(3, 5, rng=rng), dm.Tanh(), dm.Linear(5, 4, rng=rng), dm.ReLU(), dm.Linear(4, 3, rng=rng), dm.Softmax()
    )
    gold = torch_twin(net)
    x, g = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    tx = torch.tensor(x, requires_grad=True)
    ty = gold(tx)
    ty.backward(torch.from_numpy(g))
    y = net(x)
    dx = net.backward(g)
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL, err_msg="output")
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL, err_msg="dL/dx")
    for k, (ours, theirs) in enumerate(zip(net.parameters(), gold.parameters())):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), **TOL, err_msg=f"parameter {k} grad")


@pytest.mark.parametrize("name", ["Sigmoid", "Tanh", "Softmax"])
def test_stable_at_plus_minus_1e4_with_every_warning_an_error(name):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    g = np.array([[1.0, -2.0, 0.5], [0.3, 0.3, -0.6]])
    ours, theirs = PAIRS[name][0](), PAIRS[name][1]()
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        a = ours(z)
        dz = ours.backward(g)
    tz = torch.tensor(z, requires_grad=True)
    ta = theirs(tz)
    ta.backward(torch.from_numpy(g))
    assert np.isfinite(a).all() and np.isfinite(dz).all()
    np.testing.assert_allclose(a, ta.detach().numpy(), rtol=1e-15, atol=0, err_msg=f"{name} output")
    np.testing.assert_allclose(dz, tz.grad.numpy(), rtol=1e-15, atol=0, err_msg=f"{name} dL/dz")


@pytest.mark.parametrize("name", PAIRS)
def test_float32_in_float32_out(name):
    layer = PAIRS[name][0]()
    z = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    assert layer(z).dtype == np.float32
    assert layer.backward(np.ones((1, 3), dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("name", PAIRS)
def test_backward_errors_are_named(name):
    layer = PAIRS[name][0]()
    assert layer.parameters() == [] and repr(layer) == f"{name}()"
    with pytest.raises(ValueError, match=rf"{name}.backward\(\) called before forward\(\)"):
        layer.backward(np.ones((2, 3)))
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"{name}.backward grad_output: expected shape \(2, 3\), got \(3, 2\)"):
        layer.backward(np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"expected dtype float64, got float32"):
        layer.backward(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match=r"expected a NumPy ndarray, got list"):
        layer.backward([[1.0, 1.0, 1.0]] * 2)


@pytest.mark.parametrize(
    "name, z, error, message",
    [
        ("ReLU", [1.0], TypeError, r"ReLU input: expected a NumPy ndarray, got list"),
        ("Sigmoid", np.array([1, 2]), TypeError, r"sigmoid input: expected dtype float32 or float64, got int64"),
        ("Tanh", np.array([np.nan]), ValueError, r"tanh input: expected numbers \(±inf allowed\), got NaN at index"),
        ("Softmax", np.array(2.0), ValueError, r"softmax input: expected at least 1-D logits"),
    ],
)
def test_bad_input_is_named(name, z, error, message):
    with pytest.raises(error, match=message):
        PAIRS[name][0]()(z)


@pytest.mark.parametrize("cls", [dm.ReLU, dm.Sigmoid, dm.Tanh])
def test_zero_d_input_stays_an_ndarray_through_a_sequential(cls):
    net = dm.Sequential(cls(), cls())
    out = net(np.array(1.0))
    gold = torch.nn.Sequential(torch_twin(cls()), torch_twin(cls()))(torch.tensor(1.0, dtype=torch.float64))
    assert isinstance(out, np.ndarray) and out.shape == ()
    np.testing.assert_allclose(out, gold.item(), rtol=1e-15)
    assert isinstance(net.backward(np.array(1.0)), np.ndarray)


@pytest.mark.parametrize("cls", [dm.Sigmoid, dm.Tanh, dm.Softmax])
def test_the_cached_output_cannot_be_changed_in_place(cls):
    act = cls()
    a = act(np.array([[0.5, -1.0, 2.0]]))
    with pytest.raises(ValueError, match="read-only"):
        a *= 0  # torch would raise at backward: "modified by an inplace operation"
    expected = torch_twin(cls())(torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64, requires_grad=True))
    np.testing.assert_allclose(a, expected.detach().numpy(), rtol=1e-15)


def test_relu_input_changed_in_place_after_forward_does_not_change_the_gradient():
    z = np.array([[0.5, -1.0, 2.0]])
    act = dm.ReLU()
    act(z)
    z *= -1  # flips every sign after forward
    np.testing.assert_array_equal(act.backward(np.ones((1, 3))), [[1.0, 0.0, 1.0]])
