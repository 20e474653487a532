r"""Training helpers: `fit` runs the training loop, `evaluate` scores a model without training it."""

import numpy as np

from ._checks import as_float_array, as_rng, check_count, check_labels
from .data import batches
from .grad_mode import no_grad
from .losses import CrossEntropyLoss
from .module import Module


def fit(model, loss_fn, optimizer, x, y, batch_size, rng, epochs=1, *, validation=None, patience=None,
        restore_best=True):
    r"""Train with the loop forward → loss → `zero_grad` → backward → `step`; return each batch's loss.

    With `validation=(x_val, y_val)`, the model is scored on that data after every epoch (as
    `evaluate` does; nothing is trained on it). The epoch with the lowest validation loss is the
    *best epoch*; with `patience` $k$, training stops once $k$ epochs in a row have not beaten it
    (early stopping), and with `restore_best` the parameters are set back, in place, to their
    values at the end of the best epoch.

    Args:
        model: a `Module` mapping `x` rows to logits. It trains in train mode and is scored in
            eval mode (as torch's `model.train()` / `model.eval()`); `fit` leaves it in the
            mode it found it in.
        loss_fn: a loss module, called as `loss_fn(logits, targets)`; its `backward()`
            returns $\partial L/\partial\,\text{logits}$.
        optimizer: an optimizer over `model.parameters()`, for example `SGD`.
        x: training inputs, one row per example.
        y: training targets, one per row of `x`.
        batch_size: rows per mini-batch.
        rng: a `numpy.random.Generator` or an int seed that shuffles every epoch (one generator
            for the whole run, so each epoch gets a new order); `None` keeps the data's order.
        epochs: the most passes over the data, a positive int.
        validation: `None`, or a pair `(x_val, y_val)` whose rows are shaped like `x`'s.
        patience: `None` (never stop early) or an int $k \ge 0$; needs `validation`.
        restore_best: with `validation`, end with the best epoch's parameters.

    Returns:
        A `History`: the list of every mini-batch's loss in training order, which also records
        `epochs` (how many ran) and, with `validation`, the per-epoch `val_loss` and
        `val_accuracy` and the 1-based `best_epoch`.

    Raises:
        ValueError: for a negative `patience`, `patience` without `validation`, or validation
            data whose rows are shaped unlike `x`'s or whose lengths differ.
        TypeError: when `patience` is not an int or `validation` is not a pair of arrays.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> rng = np.random.default_rng(0)
        >>> x, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)
        >>> model = dm.Linear(3, 2, rng=rng)
        >>> history = dm.fit(model, dm.CrossEntropyLoss(), dm.SGD(model.parameters(), lr=0.1),
        ...                  x[:30], y[:30], 10, rng=1, epochs=5, validation=(x[30:], y[30:]))
        >>> len(history), history.epochs, len(history.val_loss)
        (15, 5, 5)
    """
    check_count(epochs, "fit: epochs")
    rng = None if rng is None else as_rng(rng, "fit")
    _check_validation(validation, x, patience)
    _dry_run(model, loss_fn, x, y, validation)
    was_training = model.training if isinstance(model, Module) else None
    try:
        if was_training is not None:
            model.train()
        return _train(model, loss_fn, optimizer, x, y, batch_size, rng, epochs, validation, patience, restore_best)
    finally:
        if was_training is not None:
            model.train(was_training)


def _train(model, loss_fn, optimizer, x, y, batch_size, rng, epochs, validation, patience, restore_best):
    """`fit`'s loop, once its arguments are checked and the model is in train mode."""
    history, best = History(), None
    for epoch in range(1, epochs + 1):
        for xb, yb in batches(x, y, batch_size, rng):
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            model.backward(loss_fn.backward(), input_grad=False)  # no gradient for the data
            optimizer.step()
            history.append(float(loss))
        history.epochs = epoch
        if validation is None:
            continue
        if _score(history, model, loss_fn, validation):
            best = [p.data.copy() for p in model.parameters()] if restore_best else None
        elif patience is not None and epoch - history.best_epoch >= patience:
            break  # `patience` epochs in a row without a new best
    for p, values in zip(model.parameters(), best or []):
        p.data[...] = values  # in place: the optimizer holds these very arrays
    return history


class History(list):
    """What `fit` returns: the per-batch losses (a list), plus per-epoch validation records."""

    def __init__(self):
        super().__init__()
        self.epochs, self.best_epoch = 0, None
        self.val_loss, self.val_accuracy = [], []


def _score(history, model, loss_fn, validation):
    """Record this epoch's validation loss and accuracy; return True if it is a new best."""
    loss, accuracy = evaluate(model, loss_fn, *validation)
    history.val_loss.append(loss)
    history.val_accuracy.append(accuracy)
    if history.best_epoch is None or loss < history.val_loss[history.best_epoch - 1]:
        history.best_epoch = history.epochs
        return True
    return False


def _dry_run(model, loss_fn, x, y, validation):
    """Check all the data before the first step changes anything (nothing lost on a refused call).

    One row runs through the model and the loss (eval mode, `no_grad`: nothing is saved or
    changed) to learn the number of outputs $C$; then every input is checked for NaN, every
    class label against $C$ (a bad label in the last batch would otherwise stop `fit` after
    some steps), and validation targets against what `evaluate` can score.
    """
    as_float_array(x, "fit x")
    was_training = model.training if isinstance(model, Module) else None
    try:
        if was_training is not None:
            model.eval()
        with no_grad():
            logits = model(x[:1])
            loss_fn(logits, y[:1])
    finally:
        if was_training is not None:
            model.train(was_training)
    if isinstance(loss_fn, CrossEntropyLoss):
        check_labels(y, np.shape(logits)[-1], "fit y")
    if validation is not None:
        x_val, y_val = validation
        as_float_array(x_val, "fit validation inputs")
        if np.ndim(logits) != 2:
            raise ValueError(f"fit: validation needs the model to output logits of shape (N, C), got shape "
                             f"{np.shape(logits)} for one row")
        _labels(y_val, (len(y_val), np.shape(logits)[1]), "fit validation targets")


def _check_validation(validation, x, patience):
    """Raise a clear error for validation data or a patience that `fit` cannot use."""
    if patience is not None:
        check_count(patience, "fit: patience", minimum=0)
        if validation is None:
            raise ValueError("fit: patience needs validation data to watch: pass validation=(x_val, y_val)")
    if validation is None:
        return
    if not isinstance(validation, (tuple, list)) or len(validation) != 2 or not all(
            isinstance(a, np.ndarray) for a in validation):
        raise TypeError(f"fit: validation must be a pair of arrays (x_val, y_val), got {type(validation).__name__}")
    x_val, y_val = validation
    if x_val.ndim == 0 or x_val.shape[1:] != np.shape(x)[1:]:
        raise ValueError(f"fit: validation inputs need rows shaped like the training inputs, "
                         f"shape (N, {', '.join(map(str, np.shape(x)[1:]))}), got shape {x_val.shape}")
    if y_val.ndim == 0 or len(y_val) != len(x_val):
        raise ValueError(f"fit: validation needs one target per input row, got {len(x_val)} rows "
                         f"and targets of shape {y_val.shape}")


def evaluate(model, loss_fn, x, y):
    r"""Return `(loss, accuracy)` on `(x, y)`: the loss and the share of rows whose largest logit is the label.

    Accuracy is $\frac{1}{N}\sum_n \mathbf{1}[\arg\max_k z_{nk} = y_n]$; nothing is trained. The
    model runs in eval mode and inside `no_grad()` (nothing is saved for a backward), as torch's
    `model.eval()` and `torch.no_grad()`, and is left in the mode it was in.
    One-hot targets (for `MSELoss`) are scored by the position of their 1; targets that are
    neither labels nor one-hot rows (regression values, probabilities) have no accuracy and are
    refused rather than scored wrongly.

    Args:
        model: a `Module` mapping `x` rows to logits of shape `(N, C)`.
        loss_fn: a loss module called as `loss_fn(logits, y)`, for example `CrossEntropyLoss`.
        x: inputs, one row per example.
        y: integer class labels of shape `(N,)`, or one-hot rows of shape `(N, C)`.

    Returns:
        `(loss, accuracy)`, two floats.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> model = dm.Linear(2, 2, rng=0)
        >>> model.weight.data[...], model.bias.data[...] = np.eye(2), 0.0  # logits = x
        >>> x = np.array([[2.0, 1.0], [0.0, 3.0]])
        >>> dm.evaluate(model, dm.MSELoss(), x, np.eye(2))  # one-hot targets
        (1.5, 1.0)
        >>> dm.evaluate(model, dm.CrossEntropyLoss(), x, np.array([0, 0]))[1]  # integer labels
        0.5
    """
    was_training = model.training if isinstance(model, Module) else None
    try:
        if was_training is not None:
            model.eval()
        with no_grad():
            logits = model(x)
            if np.ndim(logits) != 2:
                raise ValueError(f"evaluate: expected the model to output logits of shape (N, C), one row per "
                                 f"input row, got shape {np.shape(logits)}; accuracy needs a class axis")
            labels = _labels(y, logits.shape, "evaluate")
            return float(loss_fn(logits, y)), float(np.mean(np.argmax(logits, axis=1) == labels))
    finally:
        if was_training is not None:
            model.train(was_training)


def _labels(y, shape, who):
    """Class labels from integer labels or one-hot rows, or a ValueError naming both forms."""
    n, c = shape
    if isinstance(y, np.ndarray) and y.shape == (n,) and np.issubdtype(y.dtype, np.integer):
        return check_labels(y, c, f"{who} y")
    if isinstance(y, np.ndarray) and y.shape == (n, c) and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
        return np.argmax(y, axis=1)
    got = f"shape {y.shape}, dtype {y.dtype}" if isinstance(y, np.ndarray) else type(y).__name__
    raise ValueError(f"{who}: expected integer class labels of shape ({n},) or one-hot rows of shape ({n}, {c}), "
                     f"got {got}")
