"""Dropout against torch: the same mask gives the same output and gradient; the masks' statistics are torch's.

torch's random stream cannot be reproduced in NumPy, so parity is checked in two halves. With
torch's own mask (read back from its output) our arithmetic must give torch's numbers to the
last bit. And our masks must have torch's statistics: over 10**6 draws, the keep-rate and the
output's mean must sit within FOUR standard errors of 1 - p and of the input's mean (a check
that a correct sampler fails about once in 16,000 seeds; the seeds are fixed).
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from dismantle import dropout as dropout_module
from dismantle import functional as F

N_DRAWS, Z = 10**6, 4.0  # draws per statistic; how many standard errors we allow
PROBS = [0.0, 0.1, 0.3, 0.5, 0.8, 0.95, 1.0]


def torch_dropout(x, p, grad_output, seed=0):
    """torch's dropout output, its input gradient, and the mask it drew (read back from the output)."""
    torch.manual_seed(seed)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.dropout(tx, p, training=True)
    ty.backward(torch.from_numpy(grad_output))
    out = ty.detach().numpy()
    return out, tx.grad.numpy(), out != 0  # x has no zeros, so a zero output is a dropped entry


def same_mask_parity(dropout_fn, backward_fn, p, shape=(30, 17), seed=0):
    """Assert our output and gradient equal torch's, given torch's mask; raise AssertionError otherwise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)  # no zeros
    g = rng.normal(size=shape)
    out, grad, mask = torch_dropout(x, p, g, seed)
    np.testing.assert_array_equal(dropout_fn(x, p, mask=mask), out, err_msg="output")
    np.testing.assert_array_equal(backward_fn(g, mask, p), grad, err_msg="dL/dx")


@pytest.mark.parametrize("p", PROBS)
def test_with_torchs_mask_output_and_gradient_are_torchs_bit_for_bit(p):
    same_mask_parity(F.dropout, F.dropout_backward, p)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(p=st.floats(0.0, 1.0), rows=st.integers(1, 8), cols=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_with_torchs_mask_any_p_and_shape(p, rows, cols, seed):
    same_mask_parity(F.dropout, F.dropout_backward, p, (rows, cols), seed)


def scaled_by_p(x, p, mask):
    return x * mask * p  # the planted fault: survivors scaled by p instead of 1 / (1 - p)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.8])
def test_planted_fault_scaled_by_p_is_caught_by_the_torch_parity(p):
    with pytest.raises(AssertionError):
        same_mask_parity(lambda x, p, mask: scaled_by_p(x, p, mask), lambda g, mask, p: scaled_by_p(g, p, mask), p)


def keep_rate_and_mean(dropout_fn, p, seed):
    """(keep-rate, its standard error, output mean over ones, its standard error) over N_DRAWS entries."""
    out = dropout_fn(np.ones(N_DRAWS), p, rng=np.random.default_rng(seed))
    kept = np.mean(out != 0)
    return kept, np.sqrt(p * (1 - p) / N_DRAWS), out.mean(), np.sqrt(p / (1 - p) / N_DRAWS)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8])
def test_a_million_draws_keep_one_minus_p_and_preserve_the_mean(p):
    kept, se_kept, mean, se_mean = keep_rate_and_mean(F.dropout, p, seed=int(p * 100))
    assert abs(kept - (1 - p)) <= Z * se_kept, (kept, 1 - p, se_kept)
    assert abs(mean - 1.0) <= Z * se_mean, (mean, se_mean)
    torch.manual_seed(int(p * 100))  # torch's own sampler passes the same test
    theirs = torch.nn.functional.dropout(torch.ones(N_DRAWS, dtype=torch.float64), p).numpy()
    assert abs(np.mean(theirs != 0) - (1 - p)) <= Z * se_kept
    assert abs(theirs.mean() - 1.0) <= Z * se_mean


@pytest.mark.parametrize("p", [0.1, 0.3, 0.8])
def test_planted_fault_scaled_by_p_is_caught_by_the_mean(p, monkeypatch):
    monkeypatch.setattr(dropout_module, "_noise", lambda x, p, rng, mask: dropout_module.dropout_mask(x.shape, p, rng) * p)
    _, _, mean, se_mean = keep_rate_and_mean(F.dropout, p, seed=1)
    assert abs(mean - 1.0) > Z * se_mean


def test_edges_p_zero_p_one_eval_and_inplace():
    x = np.random.default_rng(0).normal(size=(4, 5))
    np.testing.assert_array_equal(F.dropout(x, 0.0, rng=0), x)
    np.testing.assert_array_equal(F.dropout(x, 1.0, rng=0), np.zeros_like(x))
    assert F.dropout(x, 0.5, training=False) is x  # torch returns its input too
    y = x.copy()
    out = F.dropout(y, 0.5, inplace=True, mask=np.arange(20).reshape(4, 5) % 2 == 0)
    assert out is y
    np.testing.assert_array_equal(out, x * (np.arange(20).reshape(4, 5) % 2 == 0) * 2.0)


def test_float32_stays_float32():
    x = np.ones((3, 3), np.float32)
    assert F.dropout(x, 0.3, rng=0).dtype == np.float32


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda x: F.dropout(x, 1.5), ValueError, "dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda x: F.dropout(x, -0.1), ValueError, "dropout probability has to be between 0 and 1, but got -0.1"),
    (lambda x: dm.Dropout(2.0), ValueError, "dropout probability has to be between 0 and 1, but got 2.0"),
    (lambda x: F.dropout(x, "0.5"), TypeError, "dropout probability must be a real number, got str"),
    (lambda x: F.dropout(x, 0.5, mask=np.ones((2, 2), bool)), ValueError, r"dropout mask: expected shape \(3, 4\)"),
    (lambda x: F.dropout(x, 0.5, mask=np.ones((3, 4))), TypeError, "expected a boolean ndarray"),
    (lambda x: F.dropout(x.astype(int), 0.5), TypeError, "expected dtype float32 or float64, got int64"),
    (lambda x: F.dropout(np.full((2,), np.nan), 0.5), ValueError, "got NaN at index"),
])
def test_bad_input_is_refused_with_a_named_error(call, error, message):
    with pytest.raises(error, match=message):
        call(np.ones((3, 4)))


def test_torchs_own_messages_for_p():
    with pytest.raises(ValueError, match="^dropout probability has to be between 0 and 1, but got 1.5$"):
        torch.nn.Dropout(1.5)


def test_layer_draws_a_new_mask_each_call_exposes_it_and_backward_uses_it():
    drop = dm.Dropout(0.4, rng=3)
    x = np.random.default_rng(0).normal(size=(6, 7))
    g = np.random.default_rng(1).normal(size=x.shape)
    masks = []
    for _ in range(2):
        y = drop(x)
        masks.append(drop.mask.copy())
        np.testing.assert_array_equal(y, F.dropout(x, 0.4, mask=masks[-1]))
        np.testing.assert_array_equal(drop.backward(g), F.dropout_backward(g, masks[-1], 0.4))
        assert y is not x
    assert not np.array_equal(*masks)
    assert 0.5 < masks[0].mean() < 0.7  # 42 entries kept with chance 0.6 each


def test_layer_used_twice_in_one_network_pops_its_masks_in_reverse():
    drop = dm.Dropout(0.5, rng=0)
    net = dm.Sequential(drop, dm.Tanh(), drop)  # one module, two uses, two masks
    x = np.random.default_rng(0).uniform(0.5, 1.5, size=(6, 7))
    y = net(x)
    second = drop.mask.copy()
    both = second & (y != 0)  # where the second use kept, a zero output means the first dropped
    g = net.backward(np.ones_like(x))
    expected = np.where(both, 2.0 * (1 - np.tanh(2.0 * x) ** 2) * 2.0, 0.0)  # chain rule, p = 0.5
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=0)
    assert both.any() and (second & ~both).any()  # both cases occur


def test_layer_is_the_identity_in_eval_mode_and_back_in_train_mode():
    drop = dm.Dropout(0.5, rng=0)
    x = np.random.default_rng(0).normal(size=(5, 5))
    assert drop.training
    drop.eval()
    assert not drop.training
    np.testing.assert_array_equal(drop(x), x)
    np.testing.assert_array_equal(drop.backward(np.ones_like(x)), np.ones_like(x))
    drop.train()
    assert not np.array_equal(drop(x), x)


def test_layer_matches_torch_with_the_same_mask_inside_a_network():
    rng = np.random.default_rng(0)
    net = dm.Sequential(dm.Linear(5, 8, rng=rng), dm.ReLU(), dm.Dropout(0.3, rng=1), dm.Linear(8, 3, rng=rng))
    x, y = rng.normal(size=(10, 5)), rng.integers(0, 3, size=10)
    loss_fn = dm.CrossEntropyLoss()
    loss = loss_fn(net(x), y)
    net.backward(loss_fn.backward())
    mask = net[2].mask
    w1, b1, w2, b2 = (torch.tensor(p.data, requires_grad=True) for p in net.parameters())
    h = torch.relu(torch.from_numpy(x) @ w1.T + b1) * torch.from_numpy(mask) / (1 - 0.3)
    tloss = torch.nn.functional.cross_entropy(h @ w2.T + b2, torch.from_numpy(y))
    tloss.backward()
    assert abs(float(loss) - tloss.item()) <= 1e-12
    for ours, theirs in zip(net.parameters(), (w1, b1, w2, b2)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_gradient_passes_a_finite_difference_check():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    mask = dm.dropout.dropout_mask(x.shape, 0.35, rng=2)

    def loss(x):
        return float(np.sum(w * np.tanh(F.dropout(x, 0.35, mask=mask))))

    y = F.dropout(x, 0.35, mask=mask)
    grad = F.dropout_backward(w * (1 - np.tanh(y) ** 2), mask, 0.35)
    assert dm.gradcheck(loss, [x], [grad])
    with pytest.raises(dm.GradcheckError):  # the oracle fails a gradient scaled by p instead
        dm.gradcheck(loss, [x], [w * (1 - np.tanh(y) ** 2) * mask * 0.35])
