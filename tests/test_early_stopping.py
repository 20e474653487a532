"""fit with validation data: per-epoch scores, early stopping with patience, best-weight restore.

The references are independent of fit's bookkeeping: a run of exactly `best_epoch` epochs
without validation gives the weights the restore must bring back, and a torch loop written out
by hand gives the per-epoch validation losses.
"""

import numpy as np
import pytest
import torch

import dismantle as dm
from tests.twins import torch_twin


def problem(seed=0, n=60, val=40):
    """A small, overfittable classification problem and a net that can memorise it."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n + val, 5)), rng.integers(0, 3, size=n + val)
    model = dm.Sequential(dm.Linear(5, 32, rng=rng), dm.ReLU(), dm.Linear(32, 3, rng=rng))
    return model, x[:n], y[:n], x[n:], y[n:]


def run(model, x, y, epochs, **kwargs):
    opt = dm.SGD(model.parameters(), lr=0.2, momentum=0.9)
    return dm.fit(model, dm.CrossEntropyLoss(), opt, x, y, 10, np.random.default_rng(1), epochs=epochs, **kwargs)


def test_validation_scores_every_epoch_like_evaluate_and_records_the_best():
    model, x, y, xv, yv = problem()
    probe, *_ = problem()
    history = run(model, x, y, 6, validation=(xv, yv), restore_best=False)
    expected = []
    rng, opt = np.random.default_rng(1), dm.SGD(probe.parameters(), lr=0.2, momentum=0.9)
    for _ in range(6):  # the same training, one epoch at a time, scored by hand after each
        dm.fit(probe, dm.CrossEntropyLoss(), opt, x, y, 10, rng)
        expected.append(dm.evaluate(probe, dm.CrossEntropyLoss(), xv, yv))
    assert history.epochs == 6 and len(history) == 6 * 6
    assert history.val_loss == [e[0] for e in expected]
    assert history.val_accuracy == [e[1] for e in expected]
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1


def test_patience_stops_after_that_many_epochs_without_a_new_best():
    model, x, y, xv, yv = problem()
    history = run(model, x, y, 200, validation=(xv, yv), patience=4)
    assert history.epochs < 200, "the problem must overfit for this test to mean anything"
    assert history.epochs - history.best_epoch == 4
    before = history.val_loss[history.best_epoch - 1]
    assert all(v >= before for v in history.val_loss[history.best_epoch:])


def test_patience_zero_stops_at_the_first_epoch_without_improvement():
    model, x, y, xv, yv = problem()
    history = run(model, x, y, 200, validation=(xv, yv), patience=0)
    assert history.epochs == history.best_epoch + 1
    assert all(np.diff(history.val_loss[:-1]) < 0) and history.val_loss[-1] >= history.val_loss[-2]


def test_restore_best_brings_back_exactly_the_best_epochs_weights():
    model, x, y, xv, yv = problem()
    history = run(model, x, y, 200, validation=(xv, yv), patience=5)
    reference, *_ = problem()
    run(reference, x, y, history.best_epoch)  # an independent run that stops at the best epoch
    for mine, ref in zip(model.parameters(), reference.parameters()):
        np.testing.assert_array_equal(mine.data, ref.data)
    assert dm.evaluate(model, dm.CrossEntropyLoss(), xv, yv)[0] == min(history.val_loss)


def test_the_restore_check_fails_without_restoring():
    """Planted fault: keep the last epoch's weights; the comparison above must see it."""
    model, x, y, xv, yv = problem()
    history = run(model, x, y, 200, validation=(xv, yv), patience=5, restore_best=False)
    reference, *_ = problem()
    run(reference, x, y, history.best_epoch)
    assert not all(np.array_equal(m.data, r.data) for m, r in zip(model.parameters(), reference.parameters()))


def test_without_patience_every_epoch_runs_and_without_validation_nothing_changes():
    model, x, y, xv, yv = problem()
    assert run(model, x, y, 30, validation=(xv, yv)).epochs == 30
    plain, *_ = problem()
    again, *_ = problem()
    history = run(plain, x, y, 3)
    assert history.epochs == 3 and history.best_epoch is None and history.val_loss == []
    assert history == run(again, x, y, 3) and isinstance(history, list)


def test_validation_losses_and_restored_weights_match_a_torch_loop():
    model, x, y, xv, yv = problem(seed=3)
    twin = torch_twin(model)
    history = run(model, x, y, 200, validation=(xv, yv), patience=5)
    opt, rng = torch.optim.SGD(twin.parameters(), lr=0.2, momentum=0.9), np.random.default_rng(1)
    losses, best, best_state = [], None, None
    for epoch in range(1, 201):
        for xb, yb in dm.batches(x, y, 10, rng):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(twin(torch.from_numpy(xb)), torch.from_numpy(yb)).backward()
            opt.step()
        with torch.no_grad():
            losses.append(torch.nn.functional.cross_entropy(twin(torch.from_numpy(xv)), torch.from_numpy(yv)).item())
        if best is None or losses[-1] < min(losses[:-1]):
            best, best_state = epoch, {k: v.clone() for k, v in twin.state_dict().items()}
        elif epoch - best >= 5:
            break
    twin.load_state_dict(best_state)
    assert (history.epochs, history.best_epoch) == (epoch, best)
    np.testing.assert_allclose(history.val_loss, losses, rtol=0, atol=1e-10)
    for mine, theirs in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(mine.data, theirs.detach().numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"patience": -1}, ValueError, r"fit: patience must be an int >= 0, got -1"),
    ({"patience": 2.5}, TypeError, r"fit: patience must be an int >= 0, got float 2.5"),
    ({"patience": 3, "validation": None}, ValueError, r"fit: patience needs validation data to watch"),
    ({"validation": "xv"}, TypeError, r"fit: validation must be a pair of arrays \(x_val, y_val\), got str"),
    ({"validation": ("x", "y")}, TypeError, r"fit: validation must be a pair of arrays"),
    ({"wide": True}, ValueError, r"fit: validation inputs need rows shaped like the training inputs, "
                                 r"shape \(N, 5\), got shape \(40, 4\)"),
    ({"short": True}, ValueError, r"fit: validation needs one target per input row, got 40 rows "
                                  r"and targets of shape \(39,\)"),
])
def test_bad_settings_raise_before_any_training(kwargs, error, match):
    model, x, y, xv, yv = problem()
    before = [p.data.copy() for p in model.parameters()]
    if kwargs.pop("wide", False):
        kwargs["validation"] = (xv[:, :4], yv)
    if kwargs.pop("short", False):
        kwargs["validation"] = (xv, yv[:39])
    kwargs.setdefault("validation", (xv, yv))
    with pytest.raises(error, match=match):
        run(model, x, y, 3, **kwargs)
    assert all(np.array_equal(b, p.data) for b, p in zip(before, model.parameters()))
