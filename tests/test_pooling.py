"""MaxPool2d, AvgPool2d and Flatten against torch (float64) and finite differences.

Tolerance 1e-10 as in test_conv.py; max pooling copies values, so its output must be
torch's bit for bit, and its gradient must land on the very entries torch's lands on, ties included.
"""

import numpy as np
import pytest
import torch

import dismantle as dm
from dismantle import functional as F
from dismantle import pooling

TOL = dict(rtol=1e-10, atol=1e-10)

# (shape, kernel, stride, padding, dilation)
MAX_GRID = [
    ((2, 3, 8, 8), 2, None, 0, 1),  # the chapter's pooling
    ((2, 8, 4, 4), 2, None, 0, 1),
    ((1, 2, 7, 9), 3, 2, 1, 1),
    ((2, 1, 6, 6), 3, 1, 0, 1),  # overlapping windows: gradients add up
    ((1, 2, 9, 7), (2, 3), (1, 2), (1, 1), 2),
    ((1, 1, 5, 5), 5, None, 2, 1),
]


def layer_vs_torch(ours, theirs, x, g):
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    y = ours(x)
    assert y.shape == tuple(ty.shape), f"output shape: ours {y.shape}, torch's {tuple(ty.shape)}"
    ty.backward(torch.from_numpy(g))
    return y, ours.backward(g), ty.detach().numpy(), tx.grad.numpy()


def max_parity(case, x):
    shape, k, s, p, d = case
    ours, theirs = dm.MaxPool2d(k, s, p, d), torch.nn.MaxPool2d(k, s, p, d)
    g = np.random.default_rng(1).normal(size=theirs(torch.tensor(x)).shape)
    y, dx, ty, tdx = layer_vs_torch(ours, theirs, x, g)
    np.testing.assert_array_equal(y, ty, err_msg="output y")
    np.testing.assert_array_equal(dx != 0, tdx != 0, err_msg="dL/dx: where the gradient goes")
    np.testing.assert_allclose(dx, tdx, **TOL, err_msg="dL/dx")  # overlapping windows add in another order


def tied(shape, seed=0):
    """Small integers: almost every window holds its largest value more than once."""
    return np.random.default_rng(seed).integers(0, 3, size=shape).astype(np.float64)


@pytest.mark.parametrize("case", MAX_GRID, ids=str)
def test_max_pool_matches_torch_on_distinct_values(case):
    max_parity(case, np.random.default_rng(0).normal(size=case[0]))


@pytest.mark.parametrize("case", MAX_GRID, ids=str)
def test_max_pool_sends_tied_gradients_where_torch_does(case):
    max_parity(case, tied(case[0]))


def test_torchs_tie_rule_is_the_first_largest_in_row_major_order():
    x = torch.tensor([[[[1.0, 3.0], [3.0, 3.0]]]], requires_grad=True)
    torch.nn.functional.max_pool2d(x, 2).backward(torch.ones(1, 1, 1, 1))
    assert x.grad.tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]


def test_planted_fault_gradient_to_the_last_tie_is_caught(monkeypatch):
    def last_largest(v, kept):  # a later tie replaces the kept entry: the last largest wins
        return v >= kept

    monkeypatch.setattr(pooling, "_beats", last_largest)
    max_parity(MAX_GRID[0], np.random.default_rng(0).normal(size=MAX_GRID[0][0]))  # no ties: still right
    with pytest.raises(AssertionError, match="dL/dx"):
        max_parity(MAX_GRID[0], tied(MAX_GRID[0][0]))


def test_planted_fault_gradient_to_every_tie_is_caught(monkeypatch):
    def every_largest(g, where, shape, *args):  # a "fair" split that torch does not make
        x = tied((2, 3, 8, 8))
        win = x.reshape(2, 3, 4, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5)
        hits = win == win.max(axis=(-2, -1), keepdims=True)
        return (g[..., None, None] * hits).transpose(0, 1, 2, 4, 3, 5).reshape(shape)

    monkeypatch.setattr(pooling, "max_pool2d_backward", every_largest)
    with pytest.raises(AssertionError, match="dL/dx"):
        max_parity(MAX_GRID[0], tied(MAX_GRID[0][0]))


AVG_GRID = [
    ((2, 3, 8, 8), 2, None, 0, True, None),
    ((1, 2, 7, 9), 3, 2, 1, True, None),
    ((1, 2, 7, 9), 3, 2, 1, False, None),
    ((2, 1, 6, 6), (3, 2), 1, (1, 0), False, None),
    ((1, 2, 6, 6), 2, 2, 1, True, 3),
]


@pytest.mark.parametrize("case", AVG_GRID, ids=str)
def test_avg_pool_matches_torch(case):
    shape, k, s, p, include, divisor = case
    ours = dm.AvgPool2d(k, s, p, count_include_pad=include, divisor_override=divisor)
    theirs = torch.nn.AvgPool2d(k, s, p, count_include_pad=include, divisor_override=divisor)
    rng = np.random.default_rng(2)
    x = rng.normal(size=shape)
    g = rng.normal(size=theirs(torch.tensor(x)).shape)
    y, dx, ty, tdx = layer_vs_torch(ours, theirs, x, g)
    np.testing.assert_allclose(y, ty, **TOL, err_msg="output y")
    np.testing.assert_allclose(dx, tdx, **TOL, err_msg="dL/dx")


@pytest.mark.parametrize("layer", [dm.MaxPool2d(3, 2, 1), dm.AvgPool2d(3, 2, 1, count_include_pad=False)], ids=repr)
def test_pooling_gradients_pass_a_finite_difference_check(layer):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 2, 5, 6))  # distinct values: the max is differentiable here
    g = rng.normal(size=layer(x).shape)
    dx = layer.backward(g)
    assert dm.gradcheck(lambda *_: float(np.sum(g * layer(x))), [x], [dx])


def test_flatten_matches_torch_and_reshapes_the_gradient_back():
    x = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    for args in [(), (0,), (1, 2), (2, -1)]:
        ours, theirs = dm.Flatten(*args), torch.nn.Flatten(*args)
        y = ours(x)
        np.testing.assert_array_equal(y, theirs(torch.tensor(x)).numpy())
        assert ours.backward(np.ones_like(y)).shape == x.shape
    with pytest.raises(ValueError, match="do not fit an input of shape"):
        dm.Flatten(3, 1)(x)


def test_functional_forms_agree_with_torch():
    x = np.random.default_rng(4).normal(size=(1, 2, 6, 6))
    tx = torch.tensor(x)
    np.testing.assert_array_equal(F.max_pool2d(x, 2), torch.nn.functional.max_pool2d(tx, 2).numpy())
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 1, 1), torch.nn.functional.avg_pool2d(tx, 3, 1, 1).numpy(), **TOL)


@pytest.mark.parametrize("call, error, message", [
    (lambda: dm.MaxPool2d(2)(np.ones((8, 8))), ValueError, r"expected a 4-D array of shape \(N, C, H, W\)"),
    (lambda: dm.MaxPool2d(3)(np.ones((1, 1, 2, 2))), ValueError, r"Kernel size: \(3 x 3\)"),
    (lambda: dm.MaxPool2d(2, stride=0), ValueError, "non-positive stride"),
    (lambda: dm.MaxPool2d(2)(np.ones((1, 1, 4, 4), int)), TypeError, "expected dtype float32 or float64"),
    (lambda: dm.MaxPool2d(2, padding=2)(np.ones((1, 1, 4, 4))), ValueError, "pad should be at most half"),
    (lambda: dm.AvgPool2d(2, ceil_mode=True), ValueError, "only ceil_mode=False"),
    (lambda: dm.MaxPool2d(2, return_indices=True), ValueError, "only return_indices=False"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_backward_refuses_a_wrong_gradient_shape_and_keeps_the_saved_value():
    pool = dm.MaxPool2d(2)
    pool(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"expected shape \(1, 1, 2, 2\), got \(1, 1, 4, 4\)"):
        pool.backward(np.ones((1, 1, 4, 4)))
    assert pool.backward(np.ones((1, 1, 2, 2))).shape == (1, 1, 4, 4)


def test_a_small_cnn_matches_its_torch_twin_end_to_end():
    rng = np.random.default_rng(5)
    net = dm.Sequential(dm.Conv2d(1, 4, 3, padding=1, rng=rng), dm.ReLU(), dm.MaxPool2d(2),
                        dm.Conv2d(4, 6, 3, padding=1, rng=rng), dm.ReLU(), dm.AvgPool2d(2),
                        dm.Flatten(), dm.Linear(24, 10, rng=rng))
    twin = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(24, 10)).double()
    twin.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in net.state_dict().items()})
    x = rng.normal(size=(3, 1, 8, 8))
    g = rng.normal(size=(3, 10))
    tx = torch.tensor(x, requires_grad=True)
    twin(tx).backward(torch.from_numpy(g))
    np.testing.assert_allclose(net(x), twin(tx).detach().numpy(), **TOL, err_msg="output")
    np.testing.assert_allclose(net.backward(g), tx.grad.numpy(), **TOL, err_msg="dL/dx")
    for (name, p), tp in zip(net.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), **TOL, err_msg=f"dL/d{name}")
