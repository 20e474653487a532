"""MSELoss and CrossEntropyLoss against torch.nn (float64), finite differences, and at +-1e4."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm

TOL = dict(rtol=1e-12, atol=1e-15)  # float64 on both sides: only summation order differs
seeds = st.integers(0, 2**32 - 1)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple), seed=seeds)
def test_mse_matches_torch(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    yhat, y = rng.normal(size=shape), rng.normal(size=shape)
    tyhat = torch.tensor(yhat, requires_grad=True)
    tloss = torch.nn.MSELoss(reduction=reduction)(tyhat, torch.from_numpy(y))
    tloss.backward()

    fn = dm.MSELoss(reduction=reduction)
    loss = fn(yhat, y)
    grad = fn.backward()
    assert type(loss) is float
    np.testing.assert_allclose(loss, tloss.item(), **TOL, err_msg="loss")
    np.testing.assert_allclose(grad, tyhat.grad.numpy(), **TOL, err_msg="dL/dyhat")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 8), c=st.integers(1, 6), seed=seeds, scale=st.sampled_from([0.1, 1.0, 10.0]))
def test_cross_entropy_matches_torch(reduction, n, c, seed, scale):
    rng = np.random.default_rng(seed)
    z, y = rng.normal(scale=scale, size=(n, c)), rng.integers(0, c, size=n)
    tz = torch.tensor(z, requires_grad=True)
    tloss = torch.nn.CrossEntropyLoss(reduction=reduction)(tz, torch.from_numpy(y))
    tloss.backward()

    fn = dm.CrossEntropyLoss(reduction=reduction)
    loss = fn(z, y)
    grad = fn.backward()
    assert type(loss) is float
    np.testing.assert_allclose(loss, tloss.item(), **TOL, err_msg="loss")
    np.testing.assert_allclose(grad, tz.grad.numpy(), **TOL, err_msg="dL/dz")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_gradient_passes_gradcheck(reduction):
    rng = np.random.default_rng(0)
    yhat, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    fn = dm.MSELoss(reduction=reduction)
    fn(yhat, y)
    assert dm.gradcheck(lambda yhat: fn(yhat, y), [yhat], [fn.backward()])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_gradient_passes_gradcheck(reduction):
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    fn = dm.CrossEntropyLoss(reduction=reduction)
    fn(z, y)
    assert dm.gradcheck(lambda z: fn(z, y), [z], [fn.backward()])


def test_cross_entropy_gradient_is_p_minus_one_hot_over_m():
    rng = np.random.default_rng(2)
    z, y = rng.normal(size=(3, 4)), np.array([1, 0, 3])
    fn = dm.CrossEntropyLoss()
    fn(z, y)
    expected = (dm.functional.softmax(z) - dm.functional.one_hot(y, 4)) / 3
    np.testing.assert_allclose(fn.backward(), expected, rtol=1e-15, atol=0)


def test_seed_article_cross_entropy_example():
    z = np.array([[0.1, 0.4, 0.2], [0.3, 0.9, 0.6]])
    y = np.array([2, 0])
    loss = dm.CrossEntropyLoss()(z, y)
    assert f"{loss:.5f}" == "1.28411"  # the seed article's number
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(z), torch.from_numpy(y)).item()
    np.testing.assert_allclose(loss, expected, rtol=1e-15)


def test_upstream_scalar_scales_the_gradient():
    rng = np.random.default_rng(3)
    z, y = rng.normal(size=(3, 4)), np.array([1, 0, 3])
    yhat, t = rng.normal(size=5), rng.normal(size=5)
    for fn, args in ((dm.CrossEntropyLoss(), (z, y)), (dm.MSELoss(), (yhat, t))):
        fn(*args)
        np.testing.assert_allclose(fn.backward(0.5), 0.5 * fn.backward(), rtol=1e-15, atol=0)


def test_sum_gradient_is_m_times_mean_gradient():
    rng = np.random.default_rng(4)
    z, y = rng.normal(size=(6, 3)), rng.integers(0, 3, size=6)
    mean, total = dm.CrossEntropyLoss("mean"), dm.CrossEntropyLoss("sum")
    np.testing.assert_allclose(total(z, y), 6 * mean(z, y), rtol=1e-14)
    np.testing.assert_allclose(total.backward(), 6 * mean.backward(), rtol=1e-14, atol=1e-16)


def test_cross_entropy_stable_at_plus_minus_1e4_with_every_warning_an_error():
    z = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [0.0, 1e4, -1e4]])
    y = np.array([0, 1, 2, 2])
    fn = dm.CrossEntropyLoss()
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        loss = fn(z, y)
        grad = fn.backward()
    tz = torch.tensor(z, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tz, torch.from_numpy(y))
    tloss.backward()
    assert np.isfinite(loss) and np.isfinite(grad).all()
    np.testing.assert_allclose(loss, tloss.item(), rtol=1e-15, err_msg="loss")  # (0 + 2e4 + log 3 + 2e4) / 4
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-15, atol=0, err_msg="dL/dz")


def test_float32_in_float32_out():
    z = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    ce = dm.CrossEntropyLoss()
    assert isinstance(ce(z, np.array([1])), float) and ce.backward().dtype == np.float32
    mse = dm.MSELoss()
    assert isinstance(mse(z, z * 2), float) and mse.backward().dtype == np.float32


Z = np.zeros((2, 3))


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((Z, np.array([0, 3])), ValueError, r"expected class labels in \[0, 2\] for 3 classes, got 3 at index 1"),
        ((Z, np.array([-1, 0])), ValueError, r"expected class labels in \[0, 2\] for 3 classes, got -1 at index 0"),
        ((Z, np.array([0.0, 1.0])), TypeError, r"target: expected integer class labels \(an int dtype\), got dtype float64"),
        ((Z, np.array([True, False])), TypeError, r"expected integer class labels \(an int dtype\), got dtype bool"),
        ((Z, [0, 1]), TypeError, r"target: expected a NumPy ndarray of integer class labels, got list"),
        ((Z, np.array([0, 1, 2])), ValueError, r"expected one label per input row, shape \(2,\), got shape \(3,\)"),
        ((Z, np.array([[0], [1]])), ValueError, r"target: expected a 1-D array of shape \(N,\), got shape \(2, 1\)"),
        ((np.zeros(3), np.array([0])), ValueError, r"input: expected a 2-D array of shape \(N, C\), got shape \(3,\)"),
        ((np.array([[0.0, np.nan]]), np.array([0])), ValueError, r"CrossEntropyLoss input: expected numbers \(±inf allowed\), got NaN at index \(0, 1\)"),
        ((np.zeros((0, 3)), np.array([], dtype=int)), ValueError, r"expected at least one element, got shape \(0, 3\)"),
    ],
)
def test_cross_entropy_bad_input_is_named(args, error, message):
    with pytest.raises(error, match=message):
        dm.CrossEntropyLoss()(*args)


@pytest.mark.parametrize(
    "yhat, y, error, message",
    [
        (np.zeros((4, 1)), np.zeros(4), ValueError, r"MSELoss target: expected shape \(4, 1\), got \(4,\)"),
        (np.zeros(4), np.zeros((4, 1)), ValueError, r"MSELoss target: expected shape \(4,\), got \(4, 1\)"),
        (np.zeros(2), np.array([0.0, np.nan]), ValueError, r"MSELoss target: expected numbers \(±inf allowed\), got NaN at index"),
        (np.zeros(2), np.zeros(2, dtype=np.float32), TypeError, r"MSELoss target: expected dtype float64, got float32"),
        (np.zeros(2, dtype=int), np.zeros(2), TypeError, r"MSELoss input: expected dtype float32 or float64, got int64"),
    ],
)
def test_mse_bad_input_is_named(yhat, y, error, message):
    with pytest.raises(error, match=message):
        dm.MSELoss()(yhat, y)


@pytest.mark.parametrize("cls", [dm.MSELoss, dm.CrossEntropyLoss])
def test_misuse_is_named(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: expected reduction 'mean' or 'sum', got 'none'"):
        cls(reduction="none")
    fn = cls()
    assert repr(fn) == f"{cls.__name__}(reduction='mean')"
    with pytest.raises(ValueError, match=rf"{cls.__name__}.backward\(\) called before forward\(\)"):
        fn.backward()
    fn(np.zeros((2, 3)), np.zeros((2, 3)) if cls is dm.MSELoss else np.array([0, 1]))
    with pytest.raises(TypeError, match=r"grad_output: expected a real scalar \(dL/dloss, default 1.0\), got ndarray"):
        fn.backward(np.ones((2, 3)))


def test_labels_changed_in_place_after_forward_do_not_change_the_gradient():
    z, y = np.array([[0.1, 0.4, 0.2], [0.3, 0.9, 0.6]]), np.array([2, 0])
    fn = dm.CrossEntropyLoss()
    fn(z, y)
    y[:] = 1  # the caller reuses its label buffer before backward
    tz = torch.tensor(z, requires_grad=True)
    torch.nn.functional.cross_entropy(tz, torch.tensor([2, 0])).backward()
    np.testing.assert_allclose(fn.backward(), tz.grad.numpy(), rtol=1e-12)
