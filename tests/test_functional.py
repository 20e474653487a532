"""dismantle.functional against torch (float64), against finite differences, and at +-1e4."""

import doctest
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from dismantle import functional as F

TOL = dict(rtol=1e-12, atol=1e-15)  # float64 on both sides; softmax sums may differ in the last bits

ELEMENTWISE = {  # ours, its derivative, torch's
    "relu": (F.relu, F.relu_prime, torch.relu),
    "sigmoid": (F.sigmoid, F.sigmoid_prime, torch.sigmoid),
    "tanh": (F.tanh, F.tanh_prime, torch.tanh),
}
ROWWISE = {
    "softmax": (F.softmax, lambda t: torch.softmax(t, dim=-1)),
    "log_softmax": (F.log_softmax, lambda t: torch.log_softmax(t, dim=-1)),
}

shapes = st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple)
seeds = st.integers(0, 2**32 - 1)
scales = st.sampled_from([0.1, 1.0, 10.0])


def random(shape, seed, scale=1.0):
    return np.random.default_rng(seed).normal(scale=scale, size=shape)


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=seeds, scale=scales)
def test_elementwise_value_matches_torch(name, shape, seed, scale):
    ours, _, theirs = ELEMENTWISE[name]
    z = random(shape, seed, scale)
    np.testing.assert_allclose(ours(z), theirs(torch.from_numpy(z)).numpy(), **TOL, err_msg=f"{name}(z)")


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=seeds, scale=scales)
def test_elementwise_derivative_matches_torch_autograd(name, shape, seed, scale):
    _, prime, theirs = ELEMENTWISE[name]
    z = random(shape, seed, scale)
    tz = torch.tensor(z, requires_grad=True)
    theirs(tz).sum().backward()  # d(sum f(z))/dz_i = f'(z_i): the elements do not mix
    np.testing.assert_allclose(prime(z), tz.grad.numpy(), **TOL, err_msg=f"{name}'(z)")


@pytest.mark.parametrize("name", ROWWISE)
@settings(max_examples=30, deadline=None)
@given(shape=shapes, seed=seeds, scale=scales)
def test_rowwise_value_matches_torch(name, shape, seed, scale):
    ours, theirs = ROWWISE[name]
    z = random(shape, seed, scale)
    np.testing.assert_allclose(ours(z), theirs(torch.from_numpy(z)).numpy(), **TOL, err_msg=f"{name}(z)")


def torch_jacobian(z):
    """Torch's softmax Jacobian: one `autograd.functional.jacobian` per row."""
    rows = np.atleast_2d(z)
    jac = [torch.autograd.functional.jacobian(lambda t: torch.softmax(t, -1), torch.from_numpy(r)) for r in rows]
    out = torch.stack(jac).numpy()
    return out[0] if z.ndim == 1 else out


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 5), k=st.integers(1, 6), seed=seeds, scale=scales)
def test_softmax_jacobian_matches_torch_for_any_batch_size(n, k, seed, scale):
    z = random((k,) if n == 0 else (n, k), seed, scale)  # n == 0 stands for a single 1-D vector
    jac = F.softmax_jacobian(z)
    assert jac.shape == ((k, k) if n == 0 else (n, k, k))
    np.testing.assert_allclose(jac, torch_jacobian(z), **TOL, err_msg="softmax Jacobian")


def test_softmax_jacobian_properties():
    jac = F.softmax_jacobian(random((4, 5), 0))
    np.testing.assert_allclose(jac, jac.transpose(0, 2, 1), rtol=0, atol=0, err_msg="symmetric")
    np.testing.assert_allclose(jac.sum(axis=-1), 0, atol=1e-15, err_msg="rows sum to 0")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_derivative_passes_gradcheck(name):
    ours, prime, _ = ELEMENTWISE[name]
    z = random((3, 4), 1)
    z[np.abs(z) < 1e-3] = 0.5  # ReLU has a kink at 0; central differences straddling it would average
    assert dm.gradcheck(lambda z: float(np.sum(ours(z))), [z], [prime(z)])


@pytest.mark.parametrize("shape", [(4,), (3, 4)])
def test_softmax_jacobian_passes_gradcheck(shape):
    z = random(shape, 2)
    jac = F.softmax_jacobian(z)
    for i in range(shape[-1]):  # row i of J is the gradient of s_i; in a batch each row only sees its own z
        grad = jac[..., i, :]
        assert dm.gradcheck(lambda z, i=i: float(np.sum(F.softmax(z)[..., i])), [z], [grad])


def test_log_softmax_gradient_passes_gradcheck():
    z, g = random((3, 4), 3), random((3, 4), 4)
    # d/dz of sum(g * log_softmax(z)) = g - softmax(z) * sum(g): the Jacobian is I - 1 s^T per row
    grad = g - F.softmax(z) * g.sum(axis=-1, keepdims=True)
    assert dm.gradcheck(lambda z: float(np.sum(g * F.log_softmax(z))), [z], [grad])


def test_relu_prime_at_zero_is_zero_like_torch():
    z = np.array([-0.2, 0.0, 0.6])
    tz = torch.tensor(z, requires_grad=True)
    torch.relu(tz).sum().backward()
    np.testing.assert_array_equal(F.relu_prime(z), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(F.relu_prime(z), tz.grad.numpy())


def test_seed_article_numbers_against_torch():
    """The page's worked numbers, checked here against torch rather than against ourselves."""
    z = np.array([2.0, -3.0])
    np.testing.assert_allclose(F.sigmoid(z), torch.sigmoid(torch.from_numpy(z)).numpy(), rtol=1e-15)
    np.testing.assert_allclose(F.sigmoid(z), [0.8808, 0.0474], atol=5e-5)
    np.testing.assert_allclose(F.sigmoid_prime(z), [0.1050, 0.0452], atol=5e-5)
    np.testing.assert_allclose(F.softmax(np.array([2.0, 3.0, 1.0])), [0.2447, 0.6652, 0.0900], atol=5e-5)
    np.testing.assert_allclose(F.softmax_jacobian(np.array([4.0, 2.0])), [[0.1050, -0.1050], [-0.1050, 0.1050]], atol=5e-5)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, scale=scales)
def test_sigmoid_is_softmax_over_two_classes(seed, scale):
    z = random((5,), seed, scale)
    two = np.stack([z, np.zeros_like(z)], axis=-1)  # logits (z, 0): e^z / (e^z + e^0)
    np.testing.assert_allclose(F.sigmoid(z), F.softmax(two)[:, 0], rtol=1e-14, atol=1e-300)


def test_tanh_is_a_rescaled_sigmoid():
    z = random((7,), 5, 3.0)
    np.testing.assert_allclose(F.tanh(z), 2 * F.sigmoid(2 * z) - 1, rtol=1e-12, atol=1e-15)


EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [0.0, 1e4, -1e4]])
STABLE = {
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "sigmoid_prime": (F.sigmoid_prime, lambda t: torch.sigmoid(t) * (1 - torch.sigmoid(t))),
    "tanh": (F.tanh, torch.tanh),
    "softmax": ROWWISE["softmax"],
    "log_softmax": ROWWISE["log_softmax"],
    "softmax_jacobian": (F.softmax_jacobian, lambda t: torch.from_numpy(torch_jacobian(t.numpy()))),
}


@pytest.mark.parametrize("name", STABLE)
def test_stable_at_plus_minus_1e4_with_every_warning_an_error(name):
    ours, theirs = STABLE[name]
    with warnings.catch_warnings(), np.errstate(all="raise"):  # overflow, underflow, invalid, divide
        warnings.simplefilter("error")
        out = ours(EXTREME)
    assert np.isfinite(out).all(), f"{name} not finite at +-1e4"
    np.testing.assert_allclose(out, theirs(torch.from_numpy(EXTREME)).numpy(), rtol=1e-15, atol=0, err_msg=name)


def test_naive_sigmoid_would_overflow():
    """The reason for the two branches: 1/(1 + e^{-z}) computes e^{10000} for z = -1e4."""
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        1 / (1 + np.exp(-np.array([-1e4])))


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "log_softmax"])
def test_float32_stays_float32(name):
    fn = getattr(F, name)
    z = np.array([[1.0, -2.0, 0.5]], dtype=np.float32)
    assert fn(z).dtype == np.float32


def test_one_hot_matches_torch():
    y = np.array([2, 0, 1, 2])
    expected = torch.nn.functional.one_hot(torch.from_numpy(y), 3).double().numpy()
    np.testing.assert_array_equal(F.one_hot(y, 3), expected)


@pytest.mark.parametrize(
    "fn, z, error, message",
    [
        (F.relu, [1.0, 2.0], TypeError, r"relu input: expected a NumPy ndarray, got list"),
        (F.sigmoid, np.array([1, 2]), TypeError, r"sigmoid input: expected dtype float32 or float64, got int64"),
        (F.softmax, np.array([1.0, np.nan]), ValueError, r"softmax input: expected numbers \(±inf allowed\), got NaN at index"),
        (F.softmax, np.array(1.0), ValueError, r"expected at least 1-D logits of shape \(\.\.\., K\), got a 0-D"),
        (F.softmax_jacobian, np.ones((2, 3, 4)), ValueError, r"expected shape \(K,\) or \(N, K\), got shape \(2, 3, 4\)"),
        (lambda y: F.one_hot(y, 3), np.array([0, 3]), ValueError, r"labels in \[0, 2\] for 3 classes, got 3 at index 1"),
        (lambda y: F.one_hot(y, 3), np.array([0.0, 1.0]), TypeError, r"expected integer class labels .*got dtype float64"),
    ],
)
def test_bad_input_is_named(fn, z, error, message):
    with pytest.raises(error, match=message):
        fn(z)


@pytest.mark.parametrize("module", ["functional", "activations", "losses"])
def test_docstring_examples_run(module):
    mod = __import__(f"dismantle.{module}", fromlist=["_"])
    result = doctest.testmod(mod, extraglobs={"np": np}, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --- Odd but legal input (issue 10): infinite and huge logits, empty rows, 0-d arrays -------------

ODD_ROWS = {
    "all -inf": np.array([[-np.inf, -np.inf, -np.inf], [0.5, 1.0, -1.0]]),
    "one -inf": np.array([[-np.inf, 0.5, 1.0]]),
    "near 1e308": np.array([[1e308, -1e308, 0.0], [-1e308, -1e308, 1e308]]),
    "+inf": np.array([[np.inf, 0.0, 1.0]]),
}


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("rows", ODD_ROWS.values(), ids=ODD_ROWS.keys())
def test_softmax_of_odd_rows_is_torchs_value_without_a_warning(name, rows):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow, invalid and divide warnings are all failures
        ours = getattr(F, name)(rows)
    gold = getattr(torch, name)(torch.from_numpy(rows), dim=-1).numpy()
    np.testing.assert_array_equal(ours, gold)  # NaN where torch has NaN, -inf where it has -inf


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(2, 0), (0, 3), (0,)])
def test_softmax_of_an_empty_axis_is_empty_like_torch(name, shape):
    ours = getattr(F, name)(np.zeros(shape))
    assert ours.shape == tuple(getattr(torch, name)(torch.zeros(shape), dim=-1).shape)


@pytest.mark.parametrize("name", ["relu", "relu_prime", "sigmoid", "sigmoid_prime", "tanh", "tanh_prime"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_d_input_gives_a_zero_d_array_of_the_same_dtype(name, dtype):
    out = getattr(F, name)(np.array(0.7, dtype=dtype))
    assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == dtype, type(out)


@pytest.mark.parametrize("num_classes", [2.5, "3", None, True])
def test_one_hot_num_classes_of_the_wrong_type_is_named(num_classes):
    with pytest.raises(TypeError, match=r"one_hot: num_classes must be a positive int, got (float|str|NoneType|bool)"):
        F.one_hot(np.array([0, 1]), num_classes)


def test_one_hot_num_classes_below_one_is_named():
    with pytest.raises(ValueError, match=r"one_hot: num_classes must be a positive int, got 0"):
        F.one_hot(np.array([], dtype=np.int64), 0)


# --- Tiny probabilities and signed zeros (issue 20): torch's values, not a flush to 0 ----------

TINY = np.array([-740.0, -709.0, -700.0, -650.0, -400.0, -40.0, -1e-300, -0.0, 0.0, 40.0, 700.0])


@pytest.mark.parametrize("name, theirs", [("sigmoid", torch.sigmoid),
                                          ("sigmoid_prime", lambda t: torch.sigmoid(t) * (1 - torch.sigmoid(t)))])
def test_sigmoid_keeps_probabilities_down_to_float64s_smallest_like_torch(name, theirs):
    with warnings.catch_warnings(), np.errstate(all="raise"):  # quiet, even where the result is subnormal
        warnings.simplefilter("error")
        out = getattr(F, name)(TINY)
    expected = theirs(torch.from_numpy(TINY)).numpy()
    # e^z/(1 + e^z) and torch's 1/(1 + e^-z) round differently: a few ulp; below z = -709.78 torch's e^-z
    # overflows and it returns 0 where we return e^z (subnormal): an absolute 1e-307 covers that
    np.testing.assert_allclose(out, expected, rtol=1e-15, atol=1e-307, err_msg=name)
    assert out[TINY == -650.0][0] > 0, f"{name}(-650) = 5.1e-283 in torch, not 0"


def test_softmax_keeps_a_tiny_probability_like_torch():
    z = np.array([[0.0, -700.0, -650.0], [-1e4, 0.0, -745.0]])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out, jac = F.softmax(z), F.softmax_jacobian(z)
    expected = torch.softmax(torch.from_numpy(z), -1).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)  # [1, 9.9e-305, 5.1e-283]: no flush to 0
    assert np.isfinite(jac).all()


def test_relu_keeps_the_sign_of_a_negative_zero_like_torch():
    z = np.array([-0.0, 0.0, -1.0, 2.0])
    expected = torch.relu(torch.from_numpy(z)).numpy()
    np.testing.assert_array_equal(np.signbit(F.relu(z)), np.signbit(expected))
    np.testing.assert_array_equal(F.relu(z), expected)
