r"""Layer normalization: `normalize` and its backward (shared with BatchNorm), `layer_norm`, `LayerNorm`."""

from numbers import Real

import numpy as np

from ._checks import as_float_array, check_count, check_same_dtype, check_shape, float_dtype
from .module import Module, Parameter


def normalize(x, axes, eps):
    r"""Return $\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}$ and $1/\sqrt{\sigma^2 + \epsilon}$, moments over `axes`.

    $\mu$ and $\sigma^2$ are the mean and the *biased* variance (divided by $M$, the number of
    entries averaged, not $M - 1$) over `axes`, kept as size-1 axes so that they broadcast.
    LayerNorm averages over the last axes of one sample, BatchNorm over the batch (and the
    positions) of one channel: the same arithmetic on different axes.

    Examples:
        >>> import numpy as np
        >>> from dismantle.normalization import normalize
        >>> xhat, rstd = normalize(np.array([[1.0, 2.0, 3.0]]), axes=(1,), eps=0.0)
        >>> np.round(xhat, 4), np.round(rstd, 4)
        (array([[-1.2247,  0.    ,  1.2247]]), array([[1.2247]]))
    """
    mean, var = moments(x, axes)
    rstd = 1.0 / np.sqrt(var + eps)
    return (x - mean) * rstd, rstd


def moments(x, axes):
    r"""The mean $\mu$ and the biased variance $\sigma^2 = \overline{(x - \mu)^2}$ over `axes`, kept as size-1 axes."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    return mean, (centered * centered).mean(axis=axes, keepdims=True)  # biased: divided by M


def normalize_backward(grad_xhat, xhat, rstd, axes):
    r"""The gradient through `normalize`: $\frac{\partial L}{\partial x} = \frac{1}{\sigma}\big(g - \overline{g} - \hat x\,\overline{g \hat x}\big)$.

    Here $g = \partial L/\partial \hat x$, $\sigma = \sqrt{\sigma^2 + \epsilon}$, and a bar is the
    mean over `axes` (the same entries the forward pass averaged). The two subtracted terms are
    the paths through $\mu$ and through $\sigma^2$: every $x_i$ moves the mean and the variance
    that every $\hat x_j$ of its group divides by. The Normalization chapter derives it.

    Examples:
        >>> import numpy as np
        >>> from dismantle.normalization import normalize_backward
        >>> xhat, rstd = np.array([[-1.0, 1.0]]), np.array([[0.5]])  # x = [1, 5]: mean 3, std 2
        >>> normalize_backward(np.array([[1.0, 1.0]]), xhat, rstd, axes=(1,))  # a shift moves nothing
        array([[0., 0.]])
        >>> normalize_backward(np.array([[-1.0, 1.0]]), xhat, rstd, axes=(1,))  # nor does a stretch
        array([[0., 0.]])
    """
    mean_g = grad_xhat.mean(axis=axes, keepdims=True)
    mean_gx = (grad_xhat * xhat).mean(axis=axes, keepdims=True)
    return rstd * (grad_xhat - mean_g - xhat * mean_gx)


def check_eps(eps, name):
    """Raise TypeError unless `eps` is a real number, ValueError unless it is finite and >= 0."""
    if isinstance(eps, bool) or not isinstance(eps, Real):
        raise TypeError(f"{name}: eps must be a real number >= 0, got {type(eps).__name__} {eps!r}")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"{name}: eps must be a finite number >= 0, got {eps!r}")


def _shape_tuple(normalized_shape, name):
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else normalized_shape
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TypeError(f"{name}: normalized_shape must be a positive int or a non-empty tuple of them, "
                        f"got {normalized_shape!r}")
    for n in shape:
        check_count(n, f"{name}: normalized_shape entry")
    return tuple(int(n) for n in shape)


def _check_trailing(x, shape, name):
    """Raise torch's message unless `x`'s last axes are `shape`."""
    if x.ndim < len(shape) or x.shape[x.ndim - len(shape):] != shape:
        raise ValueError(f"{name}: Given normalized_shape={list(shape)}, expected input with shape "
                         f"[*, {', '.join(map(str, shape))}], but got input of size{list(x.shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    r"""Normalize each sample over its last axes: $y = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}\,\gamma + \beta$.

    As `torch.nn.functional.layer_norm`: $\mu$ and the biased $\sigma^2$ are taken over the last
    `len(normalized_shape)` axes, which must be `normalized_shape`; `weight` ($\gamma$) and
    `bias` ($\beta$), when given, have that shape.

    Examples:
        >>> import numpy as np
        >>> from dismantle import functional as F
        >>> np.round(F.layer_norm(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]]), 3), 4)
        array([[-1.2247,  0.    ,  1.2247],
               [-0.7071, -0.7071,  1.4142]])
    """
    shape = _shape_tuple(normalized_shape, "layer_norm")
    check_eps(eps, "layer_norm")
    x = as_float_array(input, "layer_norm input")
    _check_trailing(x, shape, "layer_norm input")
    for p, what in ((weight, "weight"), (bias, "bias")):
        if p is not None:
            check_shape(as_float_array(p, f"layer_norm {what}"), shape, f"layer_norm {what}")
            check_same_dtype(p, x.dtype, f"layer_norm {what}")
    y, _ = normalize(x, tuple(range(x.ndim - len(shape), x.ndim)), eps)
    if weight is not None:
        y *= weight
    if bias is not None:
        y += bias
    return y


class LayerNorm(Module):
    r"""Normalize each sample over its last axes, then scale and shift: $y = \hat x\,\gamma + \beta$.

    For every sample (every index of the leading axes) the $M$ entries of the trailing
    `normalized_shape` axes get their own mean $\mu$ and biased variance $\sigma^2$:

    $$
    \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad y = \hat x \odot \gamma + \beta .
    $$

    Nothing depends on the other samples of the batch, so training and evaluation compute the
    same thing and a batch of one is fine. With $G = \partial L/\partial y$ and sums over every
    leading axis,

    $$
    \frac{\partial L}{\partial \gamma} = \sum G \odot \hat x, \qquad
    \frac{\partial L}{\partial \beta} = \sum G, \qquad
    \frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2+\epsilon}}
    \Big(g - \overline{g} - \hat x\, \overline{g \odot \hat x}\Big),\ g = G \odot \gamma,
    $$

    where a bar is the mean over the normalized axes (see `normalize_backward`).

    Shape:
        - Input: `(*, *normalized_shape)`.
        - Output: the same shape.

    Args:
        normalized_shape: an int or a tuple of ints, the shape of the trailing axes to normalize.
        eps: added to the variance under the square root (default `1e-5`, torch's).
        elementwise_affine: learn `weight` ($\gamma$, ones) and `bias` ($\beta$, zeros); `False`
            leaves both `None`.
        bias: `False` keeps `weight` but no `bias` (torch's argument).
        dtype: `np.float64` (default) or `np.float32` (keyword only); inputs must match.

    Attributes:
        weight: `Parameter` of shape `normalized_shape`, initialized to ones (or `None`).
        bias: `Parameter` of shape `normalized_shape`, initialized to zeros (or `None`).

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> norm = dm.LayerNorm(3)
        >>> np.round(norm(np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])), 4)
        array([[-1.2247,  0.    ,  1.2247],
               [-1.2247,  0.    ,  1.2247]])
        >>> [name for name, _ in norm.named_parameters()]
        ['weight', 'bias']
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, *, dtype=np.float64):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape, "LayerNorm")
        check_eps(eps, "LayerNorm")
        for flag, what in ((elementwise_affine, "elementwise_affine"), (bias, "bias")):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"LayerNorm: {what} must be True or False, got {type(flag).__name__}")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        self.dtype = float_dtype(dtype, "LayerNorm")
        make = lambda fill: Parameter(np.full(self.normalized_shape, fill, dtype=self.dtype))  # noqa: E731
        self.register_parameter("weight", make(1.0) if elementwise_affine else None)
        self.register_parameter("bias", make(0.0) if elementwise_affine and bias else None)

    def reset_parameters(self):
        """Put `weight` back to ones and `bias` to zeros, in place."""
        if self.weight is not None:
            self.weight.data[...] = 1.0
        if self.bias is not None:
            self.bias.data[...] = 0.0

    def _axes(self, x):
        return tuple(range(x.ndim - len(self.normalized_shape), x.ndim))

    def forward(self, x):
        """Return $\\hat x \\gamma + \\beta$ and save $\\hat x$ and $1/\\sqrt{\\sigma^2+\\epsilon}$ for `backward`."""
        x = as_float_array(x, "LayerNorm input")
        _check_trailing(x, self.normalized_shape, "LayerNorm input")
        if self.weight is not None:
            check_same_dtype(x, self.dtype, "LayerNorm input")
        xhat, rstd = normalize(x, self._axes(x), self.eps)
        self.save_for_backward(xhat, rstd)
        y = xhat * self.weight.data if self.weight is not None else xhat.copy()
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, grad_output, *, input_grad=True):
        """Add $\\sum G \\hat x$ into `weight.grad`, $\\sum G$ into `bias.grad`; return $\\partial L/\\partial x$."""
        xhat, rstd = self.saved(peek=True)
        g = as_float_array(grad_output, "LayerNorm.backward grad_output")
        check_shape(g, xhat.shape, "LayerNorm.backward grad_output")
        check_same_dtype(g, xhat.dtype, "LayerNorm.backward grad_output")
        self.saved()
        lead = tuple(range(xhat.ndim - len(self.normalized_shape)))  # every sample adds into gamma and beta
        if self.weight is not None:
            self.weight.accumulate_grad((g * xhat).sum(axis=lead), copy=False)
        if self.bias is not None:
            self.bias.accumulate_grad(g.sum(axis=lead), copy=False)
        if not input_grad:
            return None
        grad_xhat = g * self.weight.data if self.weight is not None else g
        return normalize_backward(grad_xhat, xhat, rstd, self._axes(xhat))

    def __repr__(self):
        extra = "" if self.bias is not None or self.weight is None else ", bias=False"
        return (f"LayerNorm({self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}{extra})")
