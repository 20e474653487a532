"""dismantle.Conv2d and functional.conv2d against torch (float64), the plain loops and finite differences.

Tolerance: 1e-10, relative and absolute, on outputs and on every gradient. Both sides are
float64 and add the same products in another order; with at most a few hundred terms of
size ~1 the gaps stay near 1e-14, so 1e-10 leaves room while any wrong index fails by ~0.1.
"""

import itertools

import numpy as np
import pytest
import torch

import dismantle as dm
from dismantle import conv as conv_module
from dismantle import functional as F
from dismantle.conv import conv2d_loops

TOL = dict(rtol=1e-10, atol=1e-10)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")

# (N, C_in, H, W, C_out, kernel, stride, padding, dilation, groups)
GRID = [
    (2, 1, 8, 8, 4, 3, 1, 0, 1, 1),
    (2, 1, 8, 8, 8, 3, 1, 1, 1, 1),  # the chapter's first layer
    (3, 8, 4, 4, 16, 3, 1, 1, 1, 1),  # the chapter's second layer
    (1, 3, 7, 9, 2, (2, 3), (2, 1), (1, 0), 1, 1),
    (2, 2, 9, 8, 4, 3, 2, 2, 2, 1),
    (1, 4, 6, 6, 6, 3, 1, 1, 1, 2),
    (2, 4, 5, 7, 4, (1, 3), (1, 2), (0, 1), (1, 2), 4),  # depthwise
    (1, 2, 6, 5, 3, 4, 1, "same", 1, 1),  # even kernel: asymmetric padding
    (1, 2, 7, 7, 2, 3, 1, "same", 2, 2),
    (2, 3, 5, 5, 3, 5, 1, "valid", 1, 3),
    (1, 1, 3, 3, 1, 3, 3, 0, 1, 1),  # kernel as large as the image: one output
    (2, 2, 6, 6, 4, 1, 1, 0, 1, 1),  # 1x1
]


def torch_conv(x, w, b, g, **kw):
    """torch's output and its three gradients for L = sum(g * y)."""
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    assert tuple(ty.shape) == g.shape, f"output shape: ours {g.shape}, torch's {tuple(ty.shape)}"
    ty.backward(torch.from_numpy(g))
    return ty.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), None if b is None else tb.grad.numpy()


def layer_parity(case, seed=0, bias=True):
    """Build our Conv2d for `case`, run forward and backward, compare everything with torch."""
    n, cin, h, w, cout, k, s, p, d, groups = case
    rng = np.random.default_rng(seed)
    layer = dm.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=groups, bias=bias, rng=rng)
    x = rng.normal(size=(n, cin, h, w))
    y = layer(x)
    g = rng.normal(size=y.shape)
    dx = layer.backward(g)
    b = layer.bias.data if bias else None
    ty, tdx, tdw, tdb = torch_conv(x, layer.weight.data, b, g, stride=s, padding=p, dilation=d, groups=groups)
    np.testing.assert_allclose(y, ty, **TOL, err_msg="output y")
    np.testing.assert_allclose(dx, tdx, **TOL, err_msg="dL/dx")
    np.testing.assert_allclose(layer.weight.grad, tdw, **TOL, err_msg="dL/dW")
    if bias:
        np.testing.assert_allclose(layer.bias.grad, tdb, **TOL, err_msg="dL/db")
    return x, layer


@pytest.mark.parametrize("case", GRID, ids=str)
def test_layer_matches_torch_output_and_all_gradients(case):
    layer_parity(case)


@pytest.mark.parametrize("case", GRID[:6], ids=str)
def test_without_bias_matches_torch(case):
    _, layer = layer_parity(case, seed=1, bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]


@pytest.mark.parametrize("stride, padding, dilation, groups",
                         list(itertools.product([1, 2], [0, 1, 2], [1, 2], [1, 2])))
def test_functional_over_a_product_grid_matches_torch_and_the_loops(stride, padding, dilation, groups):
    rng = np.random.default_rng(stride * 100 + padding * 10 + dilation + groups)
    x, w, b = rng.normal(size=(2, 4, 7, 6)), rng.normal(size=(6, 4 // groups, 3, 2)), rng.normal(size=6)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = F.conv2d(x, w, b, **kw)
    g = rng.normal(size=y.shape)
    ty, tdx, tdw, tdb = torch_conv(x, w, b, g, **kw)
    np.testing.assert_allclose(y, ty, **TOL, err_msg="output y")
    np.testing.assert_allclose(conv2d_loops(x, w, b, **kw), ty, **TOL, err_msg="loops")
    cols, _ = conv_module._im2col(x, 3, 2, (stride, stride), ((padding,) * 2,) * 2, (dilation,) * 2, groups)
    dx, dw, db = conv_module.conv2d_backward(g, cols, x.shape, w, stride, padding, dilation, groups)
    np.testing.assert_allclose(dx, tdx, **TOL, err_msg="dL/dx")
    np.testing.assert_allclose(dw, tdw, **TOL, err_msg="dL/dW")
    np.testing.assert_allclose(db, tdb, **TOL, err_msg="dL/db")


def test_gradients_pass_a_finite_difference_check():
    rng = np.random.default_rng(3)
    layer = dm.Conv2d(2, 4, 3, stride=2, padding=1, dilation=1, groups=2, rng=rng)
    x = rng.normal(size=(2, 2, 5, 5))
    g = rng.normal(size=layer(x).shape)
    dx = layer.backward(g)
    loss = lambda *_: float(np.sum(g * layer(x)))  # noqa: E731  L = sum(g * y), so dL/dy = g
    assert dm.gradcheck(loss, [x, layer.weight.data, layer.bias.data], [dx, layer.weight.grad, layer.bias.grad])


# --- planted faults: each check must see the fault it exists for ------------------------------------------


def flipped_kernel(input, weight, bias=None, **kw):
    return F.conv2d(input, weight[:, :, ::-1, ::-1], bias, **kw)  # a true convolution, not torch's correlation


def test_planted_fault_flipped_kernel_is_caught_by_torch_and_by_the_loops():
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(1, 2, 6, 6)), rng.normal(size=(3, 2, 3, 3))
    ty = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy()
    np.testing.assert_allclose(F.conv2d(x, w, padding=1), ty, **TOL)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(flipped_kernel(x, w, padding=1), ty, **TOL)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(flipped_kernel(x, w, padding=1), conv2d_loops(x, w, padding=1), **TOL)


def test_planted_fault_padding_off_by_one_is_caught(monkeypatch):
    real = conv_module._padding

    def one_more(*args):
        return tuple((a + 1, b + 1) for a, b in real(*args))

    monkeypatch.setattr(conv_module, "_padding", one_more)
    with pytest.raises(AssertionError, match="output shape"):
        layer_parity(GRID[1])
    with pytest.raises(AssertionError, match="output shape"):
        layer_parity(GRID[7])  # "same"


def test_planted_fault_weight_gradient_transposed_is_caught(monkeypatch):
    real = conv_module.conv2d_backward

    def transposed(*args, **kw):
        gx, gw, gb = real(*args, **kw)
        return gx, gw.transpose(0, 1, 3, 2).copy(), gb

    monkeypatch.setattr(conv_module, "conv2d_backward", transposed)
    with pytest.raises(AssertionError, match="dL/dW"):
        layer_parity(GRID[2])


# --- the module: init, state_dict, the saved stack, dtypes ---------------------------------------------------


@pytest.mark.parametrize("cin, cout, k, groups", [(1, 8, 3, 1), (8, 16, 3, 1), (4, 6, (2, 5), 2)])
def test_initialisation_is_torchs_kaiming_uniform_bound(cin, cout, k, groups):
    layer = dm.Conv2d(cin, cout, k, groups=groups, rng=0)
    gold = torch.nn.Conv2d(cin, cout, k, groups=groups)
    assert layer.weight.shape == tuple(gold.weight.shape) and layer.bias.shape == tuple(gold.bias.shape)
    fan_in = cin // groups * int(np.prod(layer.kernel_size))
    bound = 1 / np.sqrt(fan_in)  # torch: kaiming_uniform_(a=sqrt(5)) gives sqrt(6 / 6 / fan_in)
    for ours, theirs in [(layer.weight.data, gold.weight), (layer.bias.data, gold.bias)]:
        assert np.abs(ours).max() <= bound and np.abs(theirs.detach().numpy()).max() <= bound
    big = dm.Conv2d(8, 64, 3, rng=1).weight.data  # 4608 draws: U(-k, k) has std k / sqrt(3)
    assert abs(big.std() - 1 / np.sqrt(72) / np.sqrt(3)) < 0.03 / np.sqrt(72)


def test_same_seed_same_weights_and_reset_parameters_redraws():
    a, b = dm.Conv2d(2, 3, 3, rng=5), dm.Conv2d(2, 3, 3, rng=5)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    before = a.weight.data.copy()
    a.reset_parameters(6)
    assert not np.array_equal(before, a.weight.data)


def test_state_dict_loads_torchs_conv2d_and_back():
    gold = torch.nn.Conv2d(3, 5, (2, 3), stride=2, padding=1, groups=1, dtype=torch.float64)
    ours = dm.Conv2d(3, 5, (2, 3), stride=2, padding=1, rng=0)
    assert list(ours.state_dict()) == list(gold.state_dict()) == ["weight", "bias"]
    ours.load_state_dict({k: v.numpy() for k, v in gold.state_dict().items()})
    x = np.random.default_rng(7).normal(size=(2, 3, 6, 7))
    np.testing.assert_allclose(ours(x), gold(torch.tensor(x)).detach().numpy(), **TOL)
    back = torch.nn.Conv2d(3, 5, (2, 3), stride=2, padding=1, dtype=torch.float64)
    dm.Conv2d(3, 5, (2, 3), rng=9).state_dict()  # a fresh one, to load ours into torch
    back.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    np.testing.assert_array_equal(back.weight.detach().numpy(), ours.weight.data)


def test_a_layer_used_twice_pops_its_saved_windows_in_reverse():
    rng = np.random.default_rng(8)
    layer = dm.Conv2d(2, 2, 3, padding=1, rng=rng)
    net = dm.Sequential(layer, dm.ReLU(), layer)
    x = rng.normal(size=(2, 2, 5, 5))
    y = net(x)
    g = rng.normal(size=y.shape)
    dx = net.backward(g)
    twin = torch.nn.Conv2d(2, 2, 3, padding=1, dtype=torch.float64)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.weight.data))
        twin.bias.copy_(torch.from_numpy(layer.bias.data))
    tx = torch.tensor(x, requires_grad=True)
    twin(torch.relu(twin(tx))).backward(torch.from_numpy(g))
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL, err_msg="dL/dx")
    np.testing.assert_allclose(layer.weight.grad, twin.weight.grad.numpy(), **TOL, err_msg="dL/dW")


def test_input_grad_false_skips_dx_and_keeps_the_parameter_grads():
    rng = np.random.default_rng(9)
    a, b = dm.Conv2d(1, 3, 3, rng=1), dm.Conv2d(1, 3, 3, rng=1)
    x = rng.normal(size=(2, 1, 5, 5))
    g = rng.normal(size=(2, 3, 3, 3))
    a(x), b(x)
    assert a.backward(g, input_grad=False) is None
    b.backward(g)
    np.testing.assert_array_equal(a.weight.grad, b.weight.grad)


def test_float32_in_float32_out():
    layer = dm.Conv2d(1, 2, 3, rng=0, dtype=np.float32)
    y = layer(np.ones((1, 1, 4, 4), np.float32))
    assert y.dtype == np.float32 and layer.backward(np.ones_like(y)).dtype == np.float32
    assert layer.weight.grad.dtype == np.float32


# --- clear errors, before anything changes -------------------------------------------------------------------


@pytest.mark.parametrize("x, message", [
    (np.ones((3, 8, 8)), r"expected a 4-D array of shape \(N, C, H, W\), got shape \(3, 8, 8\)"),
    (np.ones((2, 2, 8, 8)), r"expected 1 channels .* got 2 channels"),
    (np.ones((2, 1, 1, 1)), r"padded input size per channel: \(3 x 3\). Kernel size: \(5 x 5\)"),
    (np.ones((1, 1, 8, 8), np.float32), "expected dtype float64, got float32"),
    (np.full((1, 1, 8, 8), np.nan), "got NaN"),
])
def test_bad_input_is_named(x, message):
    layer = dm.Conv2d(1, 2, 5, padding=1, rng=0)
    before = layer.weight.data.copy()
    with pytest.raises((ValueError, TypeError), match=message):
        layer(x)
    np.testing.assert_array_equal(layer.weight.data, before)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(stride=0), ValueError, "non-positive stride is not supported"),
    (dict(stride=(1, -1)), ValueError, "non-positive stride"),
    (dict(padding=-1), ValueError, "negative padding is not supported"),
    (dict(dilation=0), ValueError, "non-positive dilation"),
    (dict(padding="full"), ValueError, "invalid padding string 'full'"),
    (dict(padding="same", stride=2), ValueError, "padding='same' is not supported for strided"),
    (dict(groups=3), ValueError, "in_channels must be divisible by groups"),
    (dict(kernel_size=2.5), TypeError, "kernel_size must be an int or a pair of ints"),
    (dict(padding_mode="reflect"), ValueError, "padding_mode='zeros'"),
    (dict(bias=None), TypeError, "bias must be True or False"),
])
def test_bad_arguments_are_refused(kwargs, error, message):
    args = dict(in_channels=4, out_channels=4, kernel_size=3) | kwargs
    with pytest.raises(error, match=message):
        dm.Conv2d(**args)


def test_torch_refuses_the_same_arguments():
    for kwargs in [dict(stride=0), dict(padding=-1), dict(groups=3), dict(padding="same", stride=2)]:
        with pytest.raises((RuntimeError, ValueError)):
            torch.nn.functional.conv2d(torch.ones(1, 4, 6, 6), torch.ones(4, 4 // kwargs.get("groups", 1), 3, 3),
                                       **kwargs)


def test_functional_refuses_a_channel_mismatch_and_a_bad_bias():
    with pytest.raises(ValueError, match="expected 4 channels"):
        F.conv2d(np.ones((1, 2, 5, 5)), np.ones((2, 2, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"bias: expected shape \(2,\), got \(3,\)"):
        F.conv2d(np.ones((1, 2, 5, 5)), np.ones((2, 2, 3, 3)), np.ones(3))


def test_backward_checks_the_gradient_shape_and_order():
    layer = dm.Conv2d(1, 2, 3, rng=0)
    with pytest.raises(ValueError, match="before forward"):
        layer.backward(np.ones((1, 2, 2, 2)))
    layer(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"expected shape \(1, 2, 2, 2\), got \(1, 2, 3, 3\)"):
        layer.backward(np.ones((1, 2, 3, 3)))
    layer.backward(np.ones((1, 2, 2, 2)))  # the refused call consumed nothing


def test_repr_names_torchs_arguments():
    assert repr(dm.Conv2d(1, 8, 3, padding=1)) == "Conv2d(1, 8, kernel_size=(3, 3), padding=(1, 1))"
    assert repr(torch.nn.Conv2d(1, 8, 3, padding=1)) == "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
