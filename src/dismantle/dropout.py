r"""Dropout: `functional.dropout`, its mask and its backward, and the `Dropout` layer."""

from numbers import Real

import numpy as np

from ._checks import as_float_array, as_rng, check_shape
from .module import Module


def dropout_mask(shape, p=0.5, rng=None):
    r"""Draw a keep-mask: `True` with probability $1 - p$, independently for every entry.

    Args:
        shape: the shape of the input the mask is for.
        p: the probability of dropping an entry, in $[0, 1]$.
        rng: a `numpy.random.Generator`, an int seed or `None` (a fresh, unseeded generator).

    Returns:
        A boolean array of `shape`.

    Examples:
        >>> from dismantle.dropout import dropout_mask
        >>> dropout_mask((2, 4), p=0.5, rng=0)
        array([[ True, False, False, False],
               [ True,  True,  True,  True]])
    """
    _check_p(p)
    return as_rng(rng, "dropout_mask").random(shape) >= p


def dropout(input, p=0.5, training=True, inplace=False, *, rng=None, mask=None):
    r"""Zero each entry with probability $p$ and scale the survivors by $\frac{1}{1-p}$: $y = x \odot \frac{m}{1-p}$.

    With $m_i \sim \text{Bernoulli}(1-p)$, every output keeps its input's expectation:
    $\mathbb{E}[y_i] = (1-p)\cdot\frac{x_i}{1-p} + p \cdot 0 = x_i$. That is why the
    network needs no change when dropout is switched off at evaluation (`training=False`
    returns `input` itself). The derivative is the same mask, scaled:
    $\frac{\partial y_i}{\partial x_i} = \frac{m_i}{1-p}$ (see `dropout_backward`). With
    $p = 1$ every entry is dropped and the output is zeros, as in torch.

    torch's random stream cannot be reproduced in NumPy, so the mask is ours: drawn from `rng`,
    or passed in as `mask` (for example torch's own, recovered from its output), which makes
    the arithmetic comparable with torch's to the last bit.

    Args:
        input: a float ndarray of any shape.
        p: the probability of dropping an entry, in $[0, 1]$ (default 0.5).
        training: apply dropout; `False` returns `input` unchanged.
        inplace: write the result into `input` and return it.
        rng: where the mask is drawn from (ignored when `mask` is given).
        mask: a boolean keep-mask of `input`'s shape (`True` = kept), instead of a random one.

    Returns:
        The array $x \odot m/(1-p)$, of `input`'s shape and dtype.

    Raises:
        ValueError: torch's message for `p` outside $[0, 1]$; a mask of another shape; NaN input.
        TypeError: a non-float input, a `p` that is not a real number, a mask that is not boolean.

    Examples:
        >>> import numpy as np
        >>> from dismantle import functional as F
        >>> x = np.array([1.0, 2.0, 3.0, 4.0])
        >>> F.dropout(x, p=0.5, mask=np.array([True, False, True, False]))
        array([2., 0., 6., 0.])
        >>> F.dropout(x, p=0.5, training=False) is x
        True
    """
    _check_p(p)
    x = as_float_array(input, "dropout input")
    if not training:
        return x
    noise = _noise(x, p, rng, mask)
    return np.multiply(x, noise, out=x) if inplace else x * noise


def dropout_backward(grad_output, mask, p=0.5):
    r"""The gradient through dropout: $\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y} \odot \frac{m}{1-p}$.

    Args:
        grad_output: $\partial L/\partial y$, a float array of the mask's shape.
        mask: the keep-mask the forward pass used.
        p: the forward pass's drop probability.

    Examples:
        >>> import numpy as np
        >>> from dismantle.dropout import dropout_backward
        >>> dropout_backward(np.ones(3), np.array([True, False, True]), p=0.75)
        array([4., 0., 4.])
    """
    _check_p(p)
    g = as_float_array(grad_output, "dropout_backward grad_output")
    return g * _noise(g, p, None, mask)


def _noise(x, p, rng, mask):
    """The multiplier $m/(1-p)$ in `x`'s dtype, from `mask` or a new draw."""
    if mask is None:
        mask = dropout_mask(x.shape, p, rng)
    elif not isinstance(mask, np.ndarray) or mask.dtype != bool:
        got = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(f"dropout mask: expected a boolean ndarray (True = kept), got {got}")
    check_shape(mask, x.shape, "dropout mask")
    if p == 1:
        return np.zeros(x.shape, x.dtype)  # every entry dropped; 0 / 0 would be NaN
    return mask.astype(x.dtype) / x.dtype.type(1 - p)  # torch's order: noise / (1 - p), then x * noise


def _check_p(p):
    if isinstance(p, bool) or not isinstance(p, Real):
        raise TypeError(f"dropout probability must be a real number, got {type(p).__name__}")
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


class Dropout(Module):
    r"""In training, zero each entry with probability $p$ and scale the rest by $\frac{1}{1-p}$; in eval, the identity.

    `forward` reads `self.training` (set by `train()` / `eval()`): in training mode it draws a
    new keep-mask $m$ for every call and returns $x \odot m/(1-p)$; in evaluation mode it
    returns $x$. `backward` multiplies by the same $m/(1-p)$ (the identity in eval mode).

    Args:
        p: the probability of dropping an entry, in $[0, 1]$ (default 0.5).
        inplace: overwrite the input instead of allocating the output.
        rng: a `numpy.random.Generator` or int seed the masks are drawn from (keyword only;
            torch draws from its global generator instead).

    Attributes:
        mask: the keep-mask of the last training-mode forward (`None` before the first), so
            that a twin can be fed the very same mask.

    Shape:
        Input: any shape. Output: the same shape.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> drop = dm.Dropout(p=0.5, rng=0)
        >>> drop(np.ones(4))
        array([2., 0., 0., 0.])
        >>> drop.eval()(np.ones(4))
        array([1., 1., 1., 1.])
    """

    def __init__(self, p=0.5, inplace=False, *, rng=None):
        super().__init__()
        _check_p(p)
        self.p, self.inplace = p, inplace
        self.rng = as_rng(rng, "Dropout")
        self.mask = None

    def forward(self, input):
        """Drop and scale in training mode; return `input` itself in evaluation mode."""
        if not self.training:
            self.save_for_backward(None)
            return as_float_array(input, "Dropout input")
        x = as_float_array(input, "Dropout input")
        self.mask = dropout_mask(x.shape, self.p, self.rng)
        noise = _noise(x, self.p, None, self.mask)
        self.save_for_backward(noise)
        return np.multiply(x, noise, out=x) if self.inplace else x * noise

    def backward(self, grad_output, *, input_grad=True):
        """Return $\\partial L/\\partial x = \\partial L/\\partial y \\odot m/(1-p)$ (no parameters)."""
        (noise,) = self.saved()
        if not input_grad:
            return None
        g = as_float_array(grad_output, "Dropout.backward grad_output")
        return g if noise is None else g * noise

    def __repr__(self):
        return f"Dropout(p={self.p}, inplace={self.inplace})"
