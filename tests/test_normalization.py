"""dismantle.LayerNorm against torch.nn.LayerNorm (float64), finite differences and planted faults."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from dismantle import functional as F
from dismantle import normalization
from tests.twins import load_into_torch

TOL = dict(rtol=1e-10, atol=1e-10)  # float64 both sides; the variance is summed in another order


def layer(shape, affine=True, bias=True, seed=0):
    """A LayerNorm with random (not the initial ones/zeros) weight and bias, so their gradients matter."""
    norm = dm.LayerNorm(shape, eps=1e-5, elementwise_affine=affine, bias=bias)
    rng = np.random.default_rng(seed)
    for p in norm.parameters():
        p.data[...] = rng.normal(size=p.shape)
    return norm


def torch_parity(norm, x, g):
    """Assert output, dL/dx and every parameter gradient equal torch's; AssertionError names which differs."""
    gold = load_into_torch(torch.nn.LayerNorm(norm.normalized_shape, eps=norm.eps, dtype=torch.float64,
                                              elementwise_affine=norm.elementwise_affine,
                                              bias=norm.bias is not None), norm)
    tx = torch.tensor(x, requires_grad=True)
    ty = gold(tx)
    ty.backward(torch.from_numpy(g))
    y = norm(x)
    dx = norm.backward(g)
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL, err_msg="output y")
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL, err_msg="dL/dx")
    for name, p in norm.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(gold, name).grad.numpy(), **TOL, err_msg=f"dL/d{name}")


shapes = st.tuples(st.lists(st.integers(1, 4), min_size=0, max_size=2), st.lists(st.integers(1, 5), min_size=1, max_size=2))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(dims=shapes, affine=st.booleans(), bias=st.booleans(), scale=st.sampled_from([1e-3, 1.0, 50.0]),
       seed=st.integers(0, 2**16))
def test_matches_torch_output_and_every_gradient(dims, affine, bias, scale, seed):
    lead, tail = dims
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(*lead, *tail)) * scale + rng.normal()
    g = rng.normal(size=x.shape)
    torch_parity(layer(tuple(tail), affine, bias, seed), x, g)


def test_int_normalized_shape_and_an_input_with_many_leading_axes():
    rng = np.random.default_rng(1)
    torch_parity(layer(6), rng.normal(size=(2, 3, 4, 6)), rng.normal(size=(2, 3, 4, 6)))


def test_gradients_pass_gradcheck():
    rng = np.random.default_rng(0)
    norm = layer((3, 4), seed=1)
    x, g = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    norm(x)
    dx = norm.backward(g)
    loss = lambda *_: float(np.sum(g * norm(x)))  # noqa: E731  L = sum(g * y), so dL/dy = g
    assert dm.gradcheck(loss, [x, norm.weight.data, norm.bias.data], [dx, norm.weight.grad, norm.bias.grad])


def unbiased_normalize(x, axes, eps):
    m = np.prod([x.shape[a] for a in axes])
    mean = x.mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt(((x - mean) ** 2).sum(axis=axes, keepdims=True) / (m - 1) + eps)
    return (x - mean) * rstd, rstd


def no_mean_path(grad_xhat, xhat, rstd, axes):
    return rstd * (grad_xhat - xhat * (grad_xhat * xhat).mean(axis=axes, keepdims=True))


def no_variance_path(grad_xhat, xhat, rstd, axes):
    return rstd * (grad_xhat - grad_xhat.mean(axis=axes, keepdims=True))


def test_planted_unbiased_variance_is_caught_by_torch_parity(monkeypatch):
    monkeypatch.setattr(normalization, "normalize", unbiased_normalize)
    rng = np.random.default_rng(2)
    with pytest.raises(AssertionError, match="output y"):
        torch_parity(layer(5), rng.normal(size=(3, 5)), rng.normal(size=(3, 5)))


@pytest.mark.parametrize("fault", [no_mean_path, no_variance_path])
def test_planted_backward_faults_are_caught_by_torch_and_by_gradcheck(monkeypatch, fault):
    monkeypatch.setattr(normalization, "normalize_backward", fault)
    rng = np.random.default_rng(3)
    x, g = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    with pytest.raises(AssertionError, match="dL/dx"):
        torch_parity(layer(5), x, g)
    norm = layer(5)
    norm(x)
    dx = norm.backward(g)
    with pytest.raises(dm.GradcheckError):
        dm.gradcheck(lambda x: float(np.sum(g * norm(x))), [x], [dx])


def test_functional_layer_norm_matches_torch():
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(3, 2, 4)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    ours = F.layer_norm(x, (2, 4), w, b, eps=1e-3)
    theirs = torch.nn.functional.layer_norm(*map(torch.from_numpy, (x,)), (2, 4), torch.from_numpy(w),
                                            torch.from_numpy(b), eps=1e-3)
    np.testing.assert_allclose(ours, theirs.numpy(), **TOL)
    np.testing.assert_allclose(F.layer_norm(x, 4), torch.nn.functional.layer_norm(torch.from_numpy(x), (4,)).numpy(),
                               **TOL)


def test_names_defaults_and_state_dict_both_ways():
    gold = torch.nn.LayerNorm((2, 3), dtype=torch.float64)
    ours = dm.LayerNorm((2, 3))
    assert list(ours.state_dict()) == list(gold.state_dict()) == ["weight", "bias"]
    np.testing.assert_array_equal(ours.weight.data, np.ones((2, 3)))
    np.testing.assert_array_equal(ours.bias.data, np.zeros((2, 3)))
    with torch.no_grad():
        gold.weight.normal_()
        gold.bias.normal_()
    ours.load_state_dict({k: v.numpy() for k, v in gold.state_dict().items()})
    np.testing.assert_array_equal(ours.weight.data, gold.weight.detach().numpy())
    load_into_torch(torch.nn.LayerNorm((2, 3), dtype=torch.float64), ours)
    assert list(dm.LayerNorm(3, bias=False).state_dict()) == list(torch.nn.LayerNorm(3, bias=False).state_dict())
    assert dm.LayerNorm(3, elementwise_affine=False).state_dict() == {}
    assert ours.eps == gold.eps == 1e-5


def test_used_twice_in_one_network_its_gradients_add_like_torchs():
    rng = np.random.default_rng(5)
    norm, lin = layer(4, seed=6), dm.Linear(4, 4, rng=rng)
    net = dm.Sequential(norm, lin, norm)
    gold_norm = load_into_torch(torch.nn.LayerNorm(4, dtype=torch.float64), norm)
    gold_lin = load_into_torch(torch.nn.Linear(4, 4, dtype=torch.float64), lin)
    x, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    tx = torch.tensor(x, requires_grad=True)
    gold_norm(gold_lin(gold_norm(tx))).backward(torch.from_numpy(g))
    net(x)
    np.testing.assert_allclose(net.backward(g), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(norm.weight.grad, gold_norm.weight.grad.numpy(), **TOL)


def test_the_same_in_train_and_eval_and_for_one_sample():
    x = np.random.default_rng(7).normal(size=(1, 5))
    norm = layer(5)
    y = norm(x)
    np.testing.assert_array_equal(norm.eval()(x), y)


def test_input_grad_false_returns_none_with_the_same_parameter_grads():
    rng = np.random.default_rng(8)
    norm, x, g = layer(4), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    norm(x)
    norm.backward(g)
    dw = norm.weight.grad.copy()
    norm.zero_grad()
    norm(x)
    assert norm.backward(g, input_grad=False) is None
    np.testing.assert_array_equal(norm.weight.grad, dw)


def test_float32_stays_float32():
    norm = dm.LayerNorm(3, dtype=np.float32)
    y = norm(np.ones((2, 3), np.float32))
    assert y.dtype == np.float32 and norm.backward(np.ones((2, 3), np.float32)).dtype == np.float32


@pytest.mark.parametrize(("x", "error", "message"), [
    (np.ones((2, 3)), ValueError, r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                  r"but got input of size\[2, 3\]"),
    (np.ones(()), ValueError, r"but got input of size\[\]"),
    (np.ones((2, 4), np.float32), TypeError, "expected dtype float64, got float32"),
    (np.ones((2, 4), int), TypeError, "expected dtype float32 or float64, got int64"),
    (np.array([[1.0, np.nan, 0.0, 0.0]]), ValueError, "got NaN at index"),
    ([[1.0, 2.0, 3.0, 4.0]], TypeError, "expected a NumPy ndarray, got list"),
])
def test_bad_input_is_named(x, error, message):
    with pytest.raises(error, match=message):
        dm.LayerNorm(4)(x)


def test_torch_says_the_same_about_a_wrong_trailing_shape():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                           r"but got input of size\[2, 3\]"):
        torch.nn.LayerNorm(4)(torch.ones(2, 3))


@pytest.mark.parametrize(("args", "kwargs", "error", "message"), [
    ((0,), {}, ValueError, "normalized_shape entry must be a positive int, got 0"),
    ((2.5,), {}, TypeError, "normalized_shape must be a positive int or a non-empty tuple"),
    (((),), {}, TypeError, "normalized_shape must be a positive int or a non-empty tuple"),
    ((3,), {"eps": -1.0}, ValueError, "eps must be a finite number >= 0, got -1.0"),
    ((3,), {"eps": "1e-5"}, TypeError, "eps must be a real number >= 0, got str"),
    ((3,), {"bias": 1}, TypeError, "bias must be True or False, got int"),
    ((3,), {"dtype": np.int32}, TypeError, "dtype must be float32 or float64, got int32"),
])
def test_bad_arguments_are_named(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        dm.LayerNorm(*args, **kwargs)


def test_backward_before_forward_and_a_wrong_gradient_shape():
    norm = dm.LayerNorm(3)
    with pytest.raises(ValueError, match=r"backward\(\) called before forward"):
        norm.backward(np.ones((2, 3)))
    norm(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expected shape \(2, 3\), got \(2, 4\)"):
        norm.backward(np.ones((2, 4)))


def test_a_constant_row_gives_zeros_not_nan():
    y = dm.LayerNorm(3)(np.full((2, 3), 7.0))  # variance 0: eps keeps the division finite
    np.testing.assert_array_equal(y, np.zeros((2, 3)))
