"""dismantle.Linear against torch.nn.Linear (float64) and against finite differences."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from tests.twins import torch_linear

TOL = dict(rtol=1e-12, atol=1e-12)  # float64 on both sides: only summation order differs


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), fin=st.integers(1, 8), fout=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_matches_torch_forward_and_all_gradients(n, fin, fout, seed):
    rng = np.random.default_rng(seed)
    layer = dm.Linear(fin, fout, rng=rng)
    x = rng.normal(size=(n, fin))
    g = rng.normal(size=(n, fout))
    gold = torch_linear(layer)
    tx = torch.tensor(x, requires_grad=True)
    tz = gold(tx)
    tz.backward(torch.from_numpy(g))

    z = layer(x)
    dx = layer.backward(g)
    np.testing.assert_allclose(z, tz.detach().numpy(), **TOL, err_msg="output z")
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL, err_msg="dL/dx")
    np.testing.assert_allclose(layer.weight.grad, gold.weight.grad.numpy(), **TOL, err_msg="dL/dW")
    np.testing.assert_allclose(layer.bias.grad, gold.bias.grad.numpy(), **TOL, err_msg="dL/db")


def test_gradients_pass_gradcheck():
    rng = np.random.default_rng(0)
    layer = dm.Linear(4, 3, rng=rng)
    x = rng.normal(size=(5, 4))
    g = rng.normal(size=(5, 3))  # L = sum(g * z), so dL/dz = g
    layer(x)
    dx = layer.backward(g)
    loss = lambda *_: float(np.sum(g * layer(x)))  # noqa: E731
    assert dm.gradcheck(loss, [x, layer.weight.data, layer.bias.data], [dx, layer.weight.grad, layer.bias.grad])


def test_gradients_accumulate_until_zero_grad():
    rng = np.random.default_rng(1)
    layer = dm.Linear(3, 2, rng=rng)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer(x)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer(x)  # one backward per forward
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once, rtol=1e-15)
    layer.zero_grad()  # torch's default, set_to_none=True
    assert layer.weight.grad is None and layer.bias.grad is None


def test_initialisation_is_torch_uniform_bound():
    layer = dm.Linear(16, 200, rng=np.random.default_rng(2))
    k = 1 / np.sqrt(16)
    assert layer.weight.shape == (200, 16) and layer.bias.shape == (200,)
    assert np.abs(layer.weight.data).max() <= k and np.abs(layer.weight.data).max() > 0.9 * k
    assert np.abs(layer.bias.data).max() <= k


def test_float32_in_float32_out():
    layer = dm.Linear(3, 2, rng=np.random.default_rng(3), dtype=np.float32)
    z = layer(np.ones((2, 3), dtype=np.float32))
    assert z.dtype == np.float32
    assert layer.backward(np.ones((2, 2), dtype=np.float32)).dtype == np.float32
    assert layer.weight.grad.dtype == np.float32


@pytest.mark.parametrize(
    "x, error, message",
    [
        (np.ones((2, 4)), ValueError, r"expected shape \(2, 3\), got \(2, 4\)"),
        (np.ones((2, 3, 1)), ValueError, r"expected a 2-D array of shape \(N, 3\), got shape \(2, 3, 1\)"),
        (np.ones(3), ValueError, r"expected a 2-D array"),
        (np.ones((2, 3), dtype=np.int64), TypeError, r"expected dtype float32 or float64, got int64"),
        (np.ones((2, 3), dtype=np.float32), TypeError, r"expected dtype float64, got float32"),
        ([[1.0, 2.0, 3.0]], TypeError, r"expected a NumPy ndarray, got list"),
        (np.array([[1.0, np.nan, 3.0]]), ValueError, r"got NaN"),
    ],
)
def test_bad_input_is_named(x, error, message):
    layer = dm.Linear(3, 2, rng=np.random.default_rng(4))
    with pytest.raises(error, match=message):
        layer(x)


def test_backward_before_forward_and_wrong_grad_shape():
    layer = dm.Linear(3, 2, rng=np.random.default_rng(5))
    with pytest.raises(ValueError, match="backward\\(\\) called before forward"):
        layer.backward(np.ones((1, 2)))
    layer(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"expected shape \(4, 2\), got \(4, 1\)"):
        layer.backward(np.ones((4, 1)))


@pytest.mark.parametrize("args, error", [((0, 2), ValueError), ((3, -1), ValueError), ((2.5, 2), TypeError),
                                         ((True, 2), TypeError)])
def test_bad_sizes(args, error):
    with pytest.raises(error, match="must be a positive int"):
        dm.Linear(*args)


def test_input_grad_false_returns_none_and_the_same_parameter_grads():
    rng = np.random.default_rng(6)
    layer = dm.Linear(3, 2, rng=rng)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer(x)
    layer.backward(g)
    dw, db = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer.zero_grad()
    layer(x)
    assert layer.backward(g, input_grad=False) is None
    np.testing.assert_array_equal(layer.weight.grad, dw)
    np.testing.assert_array_equal(layer.bias.grad, db)


# --- Int seeds; inputs changed in place between forward and backward (issue 10) ------------------


def test_an_int_seed_is_a_seed():
    a, b = dm.Linear(3, 2, rng=0), dm.Linear(3, 2, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    with pytest.raises(TypeError, match=r"Linear: rng must be None, an int seed or a numpy.random.Generator, got str"):
        dm.Linear(3, 2, rng="0")


def test_an_input_changed_in_place_after_forward_does_not_change_the_gradient():
    rng = np.random.default_rng(0)
    layer = dm.Linear(3, 2, rng=rng)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    expected = g.T @ x  # dL/dW for the x that forward saw
    layer(x)
    x *= 0  # the caller reuses its buffer before backward
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, expected, rtol=1e-15)
