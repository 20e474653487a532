r"""Training helpers: `fit` runs the training loop, `evaluate` scores a model without training it."""

import numpy as np

from ._checks import as_rng, check_count, check_labels
from .data import batches


def fit(model, loss_fn, optimizer, x, y, batch_size, rng, epochs=1):
    r"""Train with the loop forward → loss → `zero_grad` → backward → `step`; return each batch's loss.

    Args:
        model: a `Module` mapping `x` rows to logits, whose `backward` takes `input_grad`
            (`Linear` and `Sequential` do).
        loss_fn: a loss module, called as `loss_fn(logits, targets)`; its `backward()`
            returns $\partial L/\partial\,\text{logits}$.
        optimizer: an optimizer over `model.parameters()`, for example `SGD`.
        x: training inputs, one row per example.
        y: training targets, one per row of `x`.
        batch_size: rows per mini-batch.
        rng: a `numpy.random.Generator` or an int seed that shuffles every epoch (one generator
            for the whole run, so each epoch gets a new order); `None` keeps the data's order.
        epochs: passes over the data, a positive int.

    Returns:
        A list of floats, the loss of every mini-batch in training order.
    """
    check_count(epochs, "fit: epochs")
    rng = None if rng is None else as_rng(rng, "fit")
    losses = []
    for _ in range(epochs):
        for xb, yb in batches(x, y, batch_size, rng):
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            model.backward(loss_fn.backward(), input_grad=False)  # no gradient for the data
            optimizer.step()
            losses.append(float(loss))
    return losses


def evaluate(model, loss_fn, x, y):
    r"""Return `(loss, accuracy)` on `(x, y)`: the loss and the share of rows whose largest logit is the label.

    Accuracy is $\frac{1}{N}\sum_n \mathbf{1}[\arg\max_k z_{nk} = y_n]$; nothing is trained.
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
    logits = model(x)
    labels = _labels(y, logits.shape)
    return float(loss_fn(logits, y)), float(np.mean(np.argmax(logits, axis=1) == labels))


def _labels(y, shape):
    """Class labels from integer labels or one-hot rows, or a ValueError naming both forms."""
    n, c = shape
    if isinstance(y, np.ndarray) and y.shape == (n,) and np.issubdtype(y.dtype, np.integer):
        return check_labels(y, c, "evaluate y")
    if isinstance(y, np.ndarray) and y.shape == (n, c) and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
        return np.argmax(y, axis=1)
    got = f"shape {y.shape}, dtype {y.dtype}" if isinstance(y, np.ndarray) else type(y).__name__
    raise ValueError(f"evaluate: expected integer class labels of shape ({n},) or one-hot rows of shape ({n}, {c}), "
                     f"got {got}")
