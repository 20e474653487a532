"""dismantle.BatchNorm1d/2d against torch.nn.BatchNorm1d/2d (float64): outputs, gradients, running buffers.

Each parity run trains both twins for several steps, switches both to eval, then back to train,
and compares after every step: the output, dL/dx, dL/dweight, dL/dbias (accumulated across steps
on both sides) and the three buffers. Planted faults (the unbiased variance used to normalize,
the momentum convention reversed, evaluation on batch statistics) must each be caught.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from dismantle import batchnorm
from tests.twins import load_into_torch

TOL = dict(rtol=1e-10, atol=1e-10)  # float64 both sides; sums taken in another order
TWINS = {dm.BatchNorm1d: torch.nn.BatchNorm1d, dm.BatchNorm2d: torch.nn.BatchNorm2d}


def make(cls, c, momentum=0.1, affine=True, track=True, seed=0):
    """A layer with random weight, bias and running statistics (not the initial ones), and its torch twin."""
    ours = cls(c, eps=1e-5, momentum=momentum, affine=affine, track_running_stats=track)
    rng = np.random.default_rng(seed)
    for p in ours.parameters():
        p.data[...] = rng.normal(size=p.shape)
    if track:
        ours.running_mean[...] = rng.normal(size=c)
        ours.running_var[...] = rng.uniform(0.5, 2.0, size=c)
        ours.num_batches_tracked[...] = 3
    gold = load_into_torch(TWINS[cls](c, eps=1e-5, momentum=momentum, affine=affine, track_running_stats=track,
                                      dtype=torch.float64), ours)
    return ours, gold


def compare(ours, gold, x, g, step):
    """One forward and backward on both; AssertionError names the quantity and the step that differ."""
    tx = torch.tensor(x, requires_grad=True)
    ty = gold(tx)
    ty.backward(torch.from_numpy(g))
    y = ours(x)
    dx = ours.backward(g)
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL, err_msg=f"output y, step {step}")
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL, err_msg=f"dL/dx, step {step}")
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, getattr(gold, name).grad.numpy(), **TOL, err_msg=f"dL/d{name}, step {step}")
    theirs = dict(gold.named_buffers())
    assert [k for k, _ in ours.named_buffers()] == list(theirs)
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b, theirs[name].numpy(), **TOL, err_msg=f"{name}, step {step}")


def run_parity(cls, shape, momentum=0.1, affine=True, track=True, seed=0, modes="tttett"):
    """Steps in the given modes ('t' train, 'e' eval), fresh data each, compared after each."""
    ours, gold = make(cls, shape[1], momentum, affine, track, seed)
    rng = np.random.default_rng(seed + 1)
    for step, mode in enumerate(modes):
        ours.train(mode == "t")
        gold.train(mode == "t")
        x = rng.normal(size=shape) * rng.uniform(0.1, 5) + rng.normal(size=(1, shape[1]) + (1,) * (len(shape) - 2))
        compare(ours, gold, x, rng.normal(size=shape), step)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(case=st.sampled_from([(dm.BatchNorm1d, 2), (dm.BatchNorm1d, 3), (dm.BatchNorm2d, 4)]),
       n=st.integers(2, 5), c=st.integers(1, 4), extra=st.integers(1, 4),
       momentum=st.sampled_from([0.1, 0.5, 1.0, None]), affine=st.booleans(), track=st.booleans(),
       seed=st.integers(0, 2**16))
def test_matches_torch_over_shapes_modes_and_steps(case, n, c, extra, momentum, affine, track, seed):
    cls, rank = case
    shape = (n, c) + (extra,) * (rank - 2)
    run_parity(cls, shape, momentum, affine, track, seed)


@pytest.mark.parametrize(("cls", "shape"), [(dm.BatchNorm1d, (1, 3, 4)), (dm.BatchNorm2d, (1, 2, 2, 3)),
                                            (dm.BatchNorm1d, (2, 3))])
def test_a_batch_of_one_with_positions_trains_like_torch(cls, shape):
    run_parity(cls, shape, seed=5)  # M = N * L > 1 values per channel: allowed


def test_gradients_pass_gradcheck_in_train_and_in_eval():
    rng = np.random.default_rng(0)
    for mode in (True, False):
        bn, _ = make(dm.BatchNorm2d, 3, seed=2)
        bn.train(mode)
        x, g = rng.normal(size=(3, 3, 2, 2)), rng.normal(size=(3, 3, 2, 2))
        bn(x)
        dx = bn.backward(g)
        loss = lambda *_, bn=bn, x=x, g=g: float(np.sum(g * bn(x)))  # noqa: E731  L = sum(g * y)
        assert dm.gradcheck(loss, [x, bn.weight.data, bn.bias.data], [dx, bn.weight.grad, bn.bias.grad])


def unbiased_moments(x, axes):
    mean = x.mean(axis=axes, keepdims=True)
    return mean, x.var(axis=axes, keepdims=True, ddof=1)


def test_planted_unbiased_variance_to_normalize_is_caught(monkeypatch):
    monkeypatch.setattr(batchnorm, "moments", unbiased_moments)
    with pytest.raises(AssertionError, match="output y, step 0"):
        run_parity(dm.BatchNorm1d, (4, 3))


def test_planted_reversed_momentum_is_caught(monkeypatch):
    monkeypatch.setattr(batchnorm, "running_update", lambda old, new, f: old.__imul__(f).__iadd__((1 - f) * new))
    with pytest.raises(AssertionError, match="running_mean, step 0"):
        run_parity(dm.BatchNorm1d, (4, 3))


def test_planted_eval_on_batch_statistics_is_caught(monkeypatch):
    monkeypatch.setattr(batchnorm, "uses_batch_statistics", lambda module: True)
    with pytest.raises(AssertionError, match="output y, step 3"):
        run_parity(dm.BatchNorm2d, (4, 3, 2, 2))


def test_planted_faults_are_caught_by_the_independent_checks_too(monkeypatch):
    monkeypatch.setattr(batchnorm, "running_update", lambda old, new, f: old.__imul__(f).__iadd__((1 - f) * new))
    with pytest.raises(AssertionError):
        test_running_statistics_follow_the_formulas_without_torch()


def test_running_statistics_follow_the_formulas_without_torch():
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(5, 2, 3)) + k for k in range(4)]
    bn, avg = dm.BatchNorm1d(2, momentum=0.25), dm.BatchNorm1d(2, momentum=None)
    mean, var = np.zeros(2), np.ones(2)
    for x in xs:
        bn(x)
        avg(x)
        mean = 0.75 * mean + 0.25 * x.mean(axis=(0, 2))
        var = 0.75 * var + 0.25 * x.var(axis=(0, 2), ddof=1)  # unbiased: 15 values, divided by 14
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-13)
    np.testing.assert_allclose(bn.running_var, var, rtol=1e-13)
    assert bn.num_batches_tracked == avg.num_batches_tracked == 4
    np.testing.assert_allclose(avg.running_mean, np.mean([x.mean(axis=(0, 2)) for x in xs], axis=0), rtol=1e-13)
    np.testing.assert_allclose(avg.running_var, np.mean([x.var(axis=(0, 2), ddof=1) for x in xs], axis=0), rtol=1e-13)


def test_train_normalizes_with_the_biased_variance_eval_with_the_running_one():
    x = np.random.default_rng(4).normal(size=(6, 3)) * 3 + 1
    bn = dm.BatchNorm1d(3, momentum=1.0, eps=0.0)
    y = bn(x)
    np.testing.assert_allclose(y, (x - x.mean(0)) / x.std(0), rtol=1e-12)  # ddof=0
    np.testing.assert_allclose(bn.eval()(x), (x - x.mean(0)) / x.std(0, ddof=1), rtol=1e-12)


def test_state_dict_both_ways_after_training_in_torch():
    gold = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    for _ in range(3):
        gold(torch.randn(4, 3, 2, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    ours = dm.BatchNorm2d(3)
    assert list(ours.state_dict()) == list(gold.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in gold.state_dict().items()})
    assert ours.num_batches_tracked == 3 and ours.num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(ours.running_var, gold.running_var.numpy())
    back = load_into_torch(torch.nn.BatchNorm2d(3, dtype=torch.float64), ours)
    assert int(back.num_batches_tracked) == 3
    assert list(dm.BatchNorm1d(2, affine=False, track_running_stats=False).state_dict()) == []
    assert dm.BatchNorm1d(2, track_running_stats=False).running_mean is None


def test_in_a_network_with_linear_layers_like_torch():
    rng = np.random.default_rng(6)
    net = dm.Sequential(dm.Linear(4, 5, rng=rng), dm.BatchNorm1d(5), dm.ReLU(), dm.Linear(5, 3, rng=rng))
    gold = load_into_torch(torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(),
                                               torch.nn.Linear(5, 3)).double(), net)
    x, g = rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    tx = torch.tensor(x, requires_grad=True)
    gold(tx).backward(torch.from_numpy(g))
    net(x)
    np.testing.assert_allclose(net.backward(g), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(net[0].weight.grad, gold[0].weight.grad.numpy(), **TOL)
    np.testing.assert_allclose(net[1].running_var, gold[1].running_var.numpy(), **TOL)


@pytest.mark.parametrize(("cls", "shape"), [(dm.BatchNorm1d, (1, 3)), (dm.BatchNorm1d, (1, 3, 1)),
                                            (dm.BatchNorm2d, (1, 3, 1, 1))])
def test_a_batch_of_one_value_per_channel_in_training_is_refused_like_torch(cls, shape):
    message = r"Expected more than 1 value per channel when training, got input size " + \
        r"\[" + ", ".join(map(str, shape)) + r"\]"
    bn = cls(3)
    with pytest.raises(ValueError, match=message):
        bn(np.ones(shape))
    assert bn.num_batches_tracked == 0 and bn.running_mean.sum() == 0  # nothing changed
    with pytest.raises(ValueError, match=message.replace("size ", r"size torch\.Size\(") + r"\)"):
        TWINS[cls](3)(torch.ones(shape))
    bn.eval()(np.ones(shape))  # evaluation uses the running statistics: one sample is fine


@pytest.mark.parametrize(("cls", "x", "error", "message"), [
    (dm.BatchNorm1d, np.ones((4, 2)), ValueError, r"expected 3 channels \(num_features\) on axis 1, got shape \(4, 2\)"),
    (dm.BatchNorm2d, np.ones((4, 2, 3, 3)), ValueError, r"expected 3 channels"),
    (dm.BatchNorm1d, np.ones((4, 3, 2, 2)), ValueError, r"expected 2D or 3D input \(got 4D input\)"),
    (dm.BatchNorm2d, np.ones((4, 3)), ValueError, r"expected 4D input \(got 2D input\)"),
    (dm.BatchNorm1d, np.ones((4, 3), np.float32), TypeError, "expected dtype float64, got float32"),
    (dm.BatchNorm1d, np.ones((4, 3), int), TypeError, "expected dtype float32 or float64, got int64"),
    (dm.BatchNorm1d, np.array([[1.0, np.nan, 0.0]] * 2), ValueError, "got NaN at index"),
])
def test_bad_input_is_named_and_changes_nothing(cls, x, error, message):
    bn = cls(3)
    with pytest.raises(error, match=message):
        bn(x)
    assert bn.num_batches_tracked == 0


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"num_features": 0}, ValueError, "num_features must be a positive int, got 0"),
    ({"num_features": 3, "momentum": "0.1"}, TypeError, "momentum must be a real number or None, got str"),
    ({"num_features": 3, "eps": -1e-5}, ValueError, "eps must be a finite number >= 0"),
    ({"num_features": 3, "affine": None}, TypeError, "affine must be True or False, got NoneType"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        dm.BatchNorm1d(**kwargs)


def test_float32_stays_float32_and_backward_checks_its_gradient():
    bn = dm.BatchNorm1d(3, dtype=np.float32)
    assert bn(np.ones((2, 3), np.float32)).dtype == np.float32
    assert bn.running_var.dtype == np.float32
    with pytest.raises(ValueError, match=r"expected shape \(2, 3\), got \(3, 2\)"):
        bn.backward(np.ones((3, 2), np.float32))


def test_reset_and_used_twice():
    bn = dm.BatchNorm1d(2)
    x = np.random.default_rng(7).normal(size=(4, 2))
    bn(x)
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_var, np.ones(2))
    assert bn.num_batches_tracked == 0
    net = dm.Sequential(bn, dm.Tanh(), bn)
    gold = torch.nn.BatchNorm1d(2, dtype=torch.float64)
    tx = torch.tensor(x, requires_grad=True)
    gold(torch.tanh(gold(tx))).sum().backward()
    net(x)
    np.testing.assert_allclose(net.backward(np.ones((4, 2))), tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(bn.running_mean, gold.running_mean.numpy(), **TOL)
    assert bn.num_batches_tracked == 2
