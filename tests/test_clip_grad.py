"""clip_grad_norm_ and clip_grad_value_ against torch.nn.utils (float64): the returned norm and every clipped gradient.

Tolerance: 1e-12 relative on the total norm and on every gradient entry. NumPy and torch may
sum the squares in another order, which moves the last bit or two; nothing else may differ.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from dismantle import clip_grad_norm_, clip_grad_value_

SHAPES = [(3, 4), (4,), (), (2, 2, 2)]
NORMS = [2.0, 1.0, 3.0, 0.5, float("inf")]


def pair(grads):
    """Our parameters and torch's tensors holding the same gradients (None stays None)."""
    ours, theirs = [], []
    for g in grads:
        p = dm.Parameter(np.zeros(np.shape(g)) if g is not None else np.zeros(1))
        t = torch.zeros(p.shape, dtype=torch.float64, requires_grad=True)
        if g is None:
            p.grad = None
        else:
            p.grad[...] = g
            t.grad = torch.tensor(g, dtype=torch.float64)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def assert_clip_matches(clip, grads, max_norm, norm_type):
    """Run our clip and torch's on the same gradients; assert the norm and every gradient agree."""
    ours, theirs = pair(grads)
    total = clip(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type).item()
    np.testing.assert_allclose(total, ttotal, rtol=1e-12, err_msg="total norm")
    for i, (p, t) in enumerate(zip(ours, theirs)):
        if t.grad is not None:
            np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=0, err_msg=f"grad {i}")


@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("max_norm", [0.0, 0.1, 1.0, 1e3])
def test_norm_and_clipped_gradients_equal_torchs(norm_type, max_norm):
    rng = np.random.default_rng(int(max_norm * 10) + int(min(norm_type, 9)))
    assert_clip_matches(clip_grad_norm_, [rng.normal(size=s) * 3 for s in SHAPES], max_norm, norm_type)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), scale=st.sampled_from([1e-8, 1.0, 1e6]), max_norm=st.floats(0.0, 10.0),
       norm_type=st.sampled_from(NORMS), n=st.integers(1, 4))
def test_random_gradients_equal_torchs(seed, scale, max_norm, norm_type, n):
    rng = np.random.default_rng(seed)
    assert_clip_matches(clip_grad_norm_, [rng.normal(size=SHAPES[i]) * scale for i in range(n)], max_norm, norm_type)


def per_parameter_clip(params, max_norm, norm_type):
    """Planted fault: each gradient clipped by its own norm instead of the norm of all of them."""
    return max(clip_grad_norm_([p], max_norm, norm_type) for p in params)


def inf_norm_clip(params, max_norm, norm_type):
    """Planted fault: clipped by the largest entry whatever norm was asked for."""
    return clip_grad_norm_(params, max_norm, float("inf"))


@pytest.mark.parametrize("fake", [per_parameter_clip, inf_norm_clip], ids=["per-parameter-norm", "inf-norm-for-2"])
def test_planted_wrong_norm_is_caught(fake):
    rng = np.random.default_rng(0)
    with pytest.raises(AssertionError):
        assert_clip_matches(fake, [rng.normal(size=s) * 3 for s in SHAPES], 1.0, 2.0)


def test_direction_is_kept_and_the_new_norm_is_max_norm():
    ours, _ = pair([np.array([3.0, 0.0]), np.array([[0.0, 4.0]])])
    assert clip_grad_norm_(ours, 0.5) == 5.0
    np.testing.assert_allclose(np.sqrt(sum((p.grad**2).sum() for p in ours)), 0.5, rtol=1e-6)
    np.testing.assert_allclose(ours[0].grad[0] / ours[1].grad[0, 1], 0.75)


def test_non_finite_gradients_behave_as_torchs():
    for bad in (np.inf, -np.inf, np.nan):
        ours, theirs = pair([np.array([1.0, bad, -2.0]), np.array([0.5])])
        total = clip_grad_norm_(ours, 1.0)
        ttotal = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
        assert np.isnan(total) == torch.isnan(ttotal).item() and (np.isinf(total) == torch.isinf(ttotal).item())
        for p, t in zip(ours, theirs):
            np.testing.assert_array_equal(p.grad, t.grad.numpy())  # NaN where torch has NaN, 0 where it has 0
        ours, theirs = pair([np.array([1.0, bad])])
        before = ours[0].grad.copy()
        with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped") as mine:
            clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
        with pytest.raises(RuntimeError) as torchs:
            torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
        assert str(mine.value) == str(torchs.value)
        np.testing.assert_array_equal(ours[0].grad, before)  # refused before anything changed


def test_missing_gradients_are_skipped_and_none_at_all_gives_zero():
    assert_clip_matches(clip_grad_norm_, [np.array([3.0, 4.0]), None, np.array([12.0])], 1.0, 2.0)
    ours, theirs = pair([None])
    assert clip_grad_norm_(ours, 1.0) == torch.nn.utils.clip_grad_norm_(theirs, 1.0).item() == 0.0


@pytest.mark.parametrize("clip_value", [0.0, 0.5, 2.0, 100.0])
def test_clip_by_value_equals_torchs(clip_value):
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=s) * 2 for s in SHAPES] + [np.array([np.nan, np.inf, -np.inf])]
    ours, theirs = pair(grads)
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_a_single_parameter_is_accepted_as_in_torch():
    p = dm.Parameter(np.zeros(2))
    p.grad[:] = [6.0, 8.0]
    assert clip_grad_norm_(p, 5.0) == 10.0
    clip_grad_value_(p, 1.0)
    np.testing.assert_allclose(p.grad, [1.0, 1.0])


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda p: clip_grad_norm_(p, -1.0), ValueError, "max_norm must be a number >= 0, got -1.0"),
    (lambda p: clip_grad_norm_(p, float("nan")), ValueError, "max_norm must be a number >= 0, got nan"),
    (lambda p: clip_grad_norm_(p, 1.0, norm_type=0), ValueError, "norm_type must be > 0"),
    (lambda p: clip_grad_norm_(p, None), TypeError, "max_norm must be a real number, got NoneType"),
    (lambda p: clip_grad_norm_([np.ones(2)], 1.0), TypeError, "expected Parameter objects, got ndarray"),
    (lambda p: clip_grad_value_(p, -0.5), ValueError, "clip_value must be a number >= 0, got -0.5"),
    (lambda p: clip_grad_value_(p, "big"), TypeError, "clip_value must be a real number, got 'big'"),
])
def test_bad_settings_are_refused_before_any_gradient_changes(call, error, message):
    p = dm.Parameter(np.zeros(2))
    p.grad[:] = [3.0, -4.0]
    with pytest.raises(error, match=message):
        call([p])
    np.testing.assert_array_equal(p.grad, [3.0, -4.0])


def test_norm_type_inf_as_a_string_as_torch_accepts():
    ours, theirs = pair([np.array([3.0, -7.0])])
    assert clip_grad_norm_(ours, 1.0, "inf") == torch.nn.utils.clip_grad_norm_(theirs, 1.0, "inf").item() == 7.0
