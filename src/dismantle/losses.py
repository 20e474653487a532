r"""The losses: `MSELoss` and `CrossEntropyLoss`, with torch's names, inputs and reductions.

`loss = fn(input, target)` returns a Python float; `fn.backward()` then returns
$\partial L/\partial\,\text{input}$, shaped like `input`.
A loss has no parameters, so `backward` may be called again after one forward (it reads what
the forward saved and gives the same gradient).
"""

import numbers

import numpy as np

from . import functional as F
from ._checks import as_float_array, check_labels, check_ndim, check_same_dtype, check_shape
from .module import Module

REDUCTIONS = ("mean", "sum")


class _Loss(Module):
    """Shared plumbing: the reduction and the scalar upstream gradient."""

    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: expected reduction 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction

    def _scale(self, count, grad_output):
        """The factor $1/\\text{count}$ for `'mean'` (1 for `'sum'`), times the upstream scalar."""
        if not isinstance(grad_output, numbers.Real) or isinstance(grad_output, bool):
            name = f"{type(self).__name__}.backward grad_output"
            raise TypeError(f"{name}: expected a real scalar (dL/dloss, default 1.0), got {type(grad_output).__name__}")
        return float(grad_output) / (count if self.reduction == "mean" else 1)

    def _input(self, x):
        x = as_float_array(x, f"{type(self).__name__} input")
        if x.size == 0:
            raise ValueError(f"{type(self).__name__} input: expected at least one element, got shape {x.shape}")
        return x

    def __repr__(self):
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class MSELoss(_Loss):
    r"""Mean squared error $L = \dfrac{1}{n}\sum_{i=1}^{n} (\hat y_i - y_i)^2$ over all $n$ elements, like `torch.nn.MSELoss`.

    The derivative is $\dfrac{\partial L}{\partial \hat y_i} = \dfrac{2(\hat y_i - y_i)}{n}$;
    with `reduction="sum"` the $\frac1n$ goes away from both.

    Shape:
        - Input $\hat y$: any shape.
        - Target $y$: exactly the input's shape and dtype. A `(N, 1)` input against a
          `(N,)` target is an error, not a silent `(N, N)` broadcast.

    Args:
        reduction: `"mean"` (default, torch's) or `"sum"`.

    Examples:
        >>> import numpy as np
        >>> from dismantle import MSELoss
        >>> fn = MSELoss()
        >>> fn(np.array([1.0, 2.0]), np.array([0.0, 4.0]))
        2.5
        >>> fn.backward()
        array([ 1., -2.])
    """

    def forward(self, input, target):
        """Return the loss as a float; save the difference $\\hat y - y$."""
        input = self._input(input)
        target = as_float_array(target, "MSELoss target")
        check_shape(target, input.shape, "MSELoss target")
        check_same_dtype(target, input.dtype, "MSELoss target")
        diff = input - target
        self.save_for_backward(diff)
        total = np.sum(diff * diff)
        return float(total / diff.size if self.reduction == "mean" else total)

    def backward(self, grad_output=1.0, *, input_grad=True):
        r"""Return $\partial L/\partial \hat y = 2(\hat y - y)/n$ (times `grad_output`, $\partial(\cdot)/\partial L$)."""
        (diff,) = self.saved(peek=True)
        return diff * (2 * self._scale(diff.size, grad_output)) if input_grad else None


class CrossEntropyLoss(_Loss):
    r"""Cross-entropy of softmax probabilities, $L = -\dfrac{1}{N}\sum_{n=1}^{N} \log \mathrm{softmax}(z_n)_{y_n}$, like `torch.nn.CrossEntropyLoss`.

    It takes raw logits, not probabilities: the softmax is inside, computed as a
    log-softmax so that logits of $\pm 10^4$ give a finite loss. The derivative with
    respect to the logits is

    $$
    \frac{\partial L}{\partial z_{nk}} = \frac{p_{nk} - Y_{nk}}{N},
    \qquad p_n = \mathrm{softmax}(z_n),\; Y = \text{one-hot}(y).
    $$

    Shape:
        - Input $z$: `(N, C)`, logits.
        - Target $y$: `(N,)`, integer class labels in $[0, C-1]$.

    Args:
        reduction: `"mean"` (default, torch's) or `"sum"`.

    Examples:
        >>> import numpy as np
        >>> from dismantle import CrossEntropyLoss
        >>> fn = CrossEntropyLoss()
        >>> z = np.array([[0.1, 0.4, 0.2], [0.3, 0.9, 0.6]])
        >>> round(fn(z, np.array([2, 0])), 5)
        1.28411
    """

    def forward(self, input, target):
        """Return the loss as a float; save the probabilities and the labels."""
        z = self._input(input)
        check_ndim(z, 2, "CrossEntropyLoss input", "(N, C)")
        n, c = z.shape
        y = check_labels(target, c, "CrossEntropyLoss target")
        if y.shape[0] != n:
            raise ValueError(
                f"CrossEntropyLoss target: expected one label per input row, shape ({n},), got shape {y.shape}"
            )
        logp = F.log_softmax(z)
        picked = logp[np.arange(n), y]  # integer-array indexing: row n, column y[n]
        # softmax = exp(log-softmax): no second pass over z; the labels are copied (N ints), so
        # the caller may reuse its label array before backward
        self.save_for_backward(F._exp_nonpositive(logp), y.copy())
        return float(-picked.mean() if self.reduction == "mean" else -picked.sum())

    def backward(self, grad_output=1.0, *, input_grad=True):
        r"""Return $\partial L/\partial z = (p - Y)/N$ (times `grad_output`, $\partial(\cdot)/\partial L$)."""
        p, y = self.saved(peek=True)
        scale = self._scale(y.shape[0], grad_output)
        if not input_grad:
            return None
        grad = p.copy()
        grad[np.arange(y.shape[0]), y] -= 1
        return grad * scale
