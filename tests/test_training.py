"""dismantle.training: `fit` is torch's training loop on the same batches; `evaluate` scores without training."""

import re

import numpy as np
import pytest
import torch

import dismantle as dm
from tests.twins import torch_twin


def small_classifier(seed):
    rng = np.random.default_rng(seed)
    model = dm.Sequential(dm.Linear(4, 8, rng=rng), dm.ReLU(), dm.Linear(8, 3, rng=rng))
    x, y = rng.normal(size=(21, 4)), rng.integers(0, 3, size=21)
    return model, x, y


def test_fit_is_the_torch_training_loop_on_the_same_batches():
    model, x, y = small_classifier(seed=0)
    twin = torch_twin(model)
    losses = dm.fit(model, dm.CrossEntropyLoss(), dm.SGD(model.parameters(), lr=0.1, momentum=0.9),
                    x, y, batch_size=5, rng=np.random.default_rng(1), epochs=3)
    opt, rng, expected = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9), np.random.default_rng(1), []
    for _ in range(3):
        for xb, yb in dm.batches(x, y, 5, rng):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(xb)), torch.from_numpy(yb))
            loss.backward()
            opt.step()
            expected.append(loss.item())
    assert len(losses) == 3 * 5 and all(isinstance(v, float) for v in losses)
    np.testing.assert_allclose(losses, expected, rtol=1e-12, atol=1e-12, err_msg="per-batch losses")
    for ours, theirs in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg="weights")


def test_evaluate_returns_torch_loss_and_argmax_accuracy():
    model, x, y = small_classifier(seed=2)
    loss, accuracy = dm.evaluate(model, dm.CrossEntropyLoss(), x, y)
    logits = torch_twin(model)(torch.from_numpy(x))
    expected_loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y)).item()
    expected_accuracy = sum(int(torch.argmax(row)) == label for row, label in zip(logits, y)) / len(y)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert accuracy == pytest.approx(expected_accuracy, abs=1e-15)


# --- Odd arguments (issue 10): negative epochs, int seeds, one-hot targets ---------------------------


@pytest.mark.parametrize("epochs, error", [(-1, ValueError), (0, ValueError), (1.5, TypeError)])
def test_fit_needs_a_positive_int_of_epochs(epochs, error):
    model, x, y = small_classifier(seed=0)
    opt = dm.SGD(model.parameters(), lr=0.1)
    with pytest.raises(error, match=r"fit: epochs must be a positive int"):
        dm.fit(model, dm.CrossEntropyLoss(), opt, x, y, 5, np.random.default_rng(0), epochs=epochs)


def test_fit_with_an_int_seed_shuffles_each_epoch_differently():
    model, x, y = small_classifier(seed=0)
    seen = []
    model_forward = model.forward
    model.forward = lambda xb: seen.append(xb.copy()) or model_forward(xb)
    dm.fit(model, dm.CrossEntropyLoss(), dm.SGD(model.parameters(), lr=0.1), x, y, 21, 0, epochs=2)
    assert len(seen[0]) == 1  # fit's check of the data: one row, before any step
    assert not np.array_equal(seen[1], seen[2])  # one generator for the run, not one per epoch


def test_evaluate_with_one_hot_targets_scores_them():
    model, x, y = small_classifier(seed=2)
    logits = model(x)
    targets = np.eye(3)[np.argmax(logits, axis=1)]  # perfect predictions, as one-hot rows
    loss, accuracy = dm.evaluate(model, dm.MSELoss(), x, targets)
    assert accuracy == 1.0
    assert loss == pytest.approx(torch.nn.functional.mse_loss(torch.from_numpy(logits), torch.from_numpy(targets)).item(), rel=1e-12)


@pytest.mark.parametrize("targets, message", [
    (np.full((21, 3), 0.5), r"evaluate: expected integer class labels of shape \(21,\) or one-hot rows of shape \(21, 3\)"),
    (np.zeros((21, 2)), r"evaluate: expected integer class labels of shape \(21,\) or one-hot rows of shape \(21, 3\)"),
])
def test_evaluate_refuses_targets_it_cannot_score(targets, message):
    model, x, _ = small_classifier(seed=2)
    with pytest.raises(ValueError, match=message):
        dm.evaluate(model, dm.MSELoss(), x, targets)


# --- Modes: fit trains in train mode, scores in eval mode under no_grad, and restores the mode --------


class ModeSpy(dm.Module):
    """Records `training` and whether saving is on at every forward; otherwise the identity."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, dm.is_grad_enabled()))
        self.save_for_backward(x.shape)
        return x

    def backward(self, grad_output, *, input_grad=True):
        self.saved()
        return grad_output if input_grad else None


@pytest.mark.parametrize("start_in_train_mode", [True, False])
def test_fit_trains_in_train_mode_scores_in_eval_mode_and_restores_the_mode(start_in_train_mode):
    model, x, y = small_classifier(seed=5)
    spy = ModeSpy()
    net = dm.Sequential(*model, spy)
    net.train(start_in_train_mode)
    dm.fit(net, dm.CrossEntropyLoss(), dm.SGD(net.parameters(), lr=0.1), x[:15], y[:15], 5, rng=0, epochs=2,
           validation=(x[15:], y[15:]))
    assert spy.seen == [(False, False)] + ([(True, True)] * 3 + [(False, False)]) * 2  # a dry run first
    assert [m.training for m in net.modules()] == [start_in_train_mode] * 5


def test_evaluate_restores_train_mode_and_saves_nothing():
    model, x, y = small_classifier(seed=6)
    model(x)  # a graph from before
    dm.evaluate(model, dm.CrossEntropyLoss(), x, y)
    assert model.training and all(m.training for m in model.modules())
    model.backward(np.ones((21, 3)))  # the earlier graph is still there, untouched by evaluate
    model.eval()
    dm.evaluate(model, dm.CrossEntropyLoss(), x, y)
    assert not any(m.training for m in model.modules())


@pytest.mark.parametrize("shape", [(21,), (21, 2, 2)])
def test_evaluate_refuses_outputs_without_a_class_axis_by_name(shape):
    class Shaped(dm.Module):
        def forward(self, x):
            return np.zeros(shape)

    with pytest.raises(ValueError, match=rf"evaluate: expected the model to output logits of shape \(N, C\).*"
                                         rf"got shape {re.escape(str(shape))}"):
        dm.evaluate(Shaped(), dm.MSELoss(), np.zeros((21, 4)), np.zeros(shape))


# --- Nothing lost: fit checks all its data before the first step changes anything -------------------


def fit_refused(model, loss_fn, x, y, **kwargs):
    """Run a fit that must be refused; return (error, whether parameters or optimizer state changed)."""
    opt = dm.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = model.state_dict()
    data = [a.copy() for a in (x, y, *kwargs.get("validation", ()))]
    with pytest.raises((ValueError, TypeError)) as error:
        dm.fit(model, loss_fn, opt, x, y, 5, rng=0, epochs=2, **kwargs)
    after = model.state_dict()
    changed = any(not np.array_equal(after[k], before[k]) for k in before) or bool(opt.state)
    changed |= any(not np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
                   for a, b in zip(data, [x, y, *kwargs.get("validation", ())]))
    return str(error.value), changed


def test_fit_refuses_regression_targets_with_validation_before_epoch_one():
    model, x, _ = small_classifier(seed=7)
    targets = np.random.default_rng(0).normal(size=(21, 3))  # regression values: no accuracy to score
    message, changed = fit_refused(model, dm.MSELoss(), x[:15], targets[:15], validation=(x[15:], targets[15:]))
    assert "fit validation targets: expected integer class labels" in message and not changed


def test_fit_refuses_a_bad_label_in_the_last_batch_before_any_step():
    model, x, y = small_classifier(seed=8)
    y = y.copy()
    y[-1] = 3  # three classes: 3 is out of range, and sits in the last batch
    message, changed = fit_refused(model, dm.CrossEntropyLoss(), x, y)
    assert "fit y: expected class labels in [0, 2]" in message and not changed


def test_fit_refuses_nan_in_the_last_row_before_any_step():
    model, x, y = small_classifier(seed=9)
    x = x.copy()
    x[-1, 0] = np.nan
    message, changed = fit_refused(model, dm.CrossEntropyLoss(), x, y)
    assert "fit x: expected numbers (±inf allowed), got NaN at index (20, 0)" in message and not changed
