r"""Pooling and flattening: `MaxPool2d`, `AvgPool2d`, `Flatten` and their functional forms.

A pooling layer slides a window over every channel on its own, as a convolution does, but
has no weights: it keeps the window's largest value (max pooling) or its mean (average
pooling). Output sizes follow the convolution's formula,
$H_o = \lfloor (H + 2p - d(k - 1) - 1)/s \rfloor + 1$, with the stride $s$ defaulting to the
kernel size $k$ (windows side by side).
"""

import math

import numpy as np

from ._checks import as_float_array, check_count, check_ndim
from .conv import _check_window, _crop, _fold, _pad, _pair, _windows
from .module import Module


def _pool_args(x, kernel_size, stride, padding, dilation, name):
    x = as_float_array(x, f"{name} input")
    check_ndim(x, 4, f"{name} input", "(N, C, H, W)")
    kernel = _pair(kernel_size, f"{name} kernel_size", 1)
    stride = kernel if stride is None or stride == () else _pair(stride, f"{name} stride", 1)
    pad = _pair(padding, f"{name} padding", 0)
    dilation = _pair(dilation, f"{name} dilation", 1)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(f"{name}: pad should be at most half of effective kernel size, "
                         f"but got pad={pad}, kernel_size={kernel}")
    pads = ((pad[0], pad[0]), (pad[1], pad[1]))
    _check_window(x, pads, kernel, dilation, name)
    return x, kernel, stride, pads, dilation


def _no_ceil(ceil_mode, name):
    if ceil_mode:
        raise ValueError(f"{name}: only ceil_mode=False (torch's default) is built, got ceil_mode={ceil_mode!r}")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r"""Max pooling: $y_{n,c,r,q} = \max_{i,j} x_{n,c,\,r s + i d,\,q s + j d}$ (padding is $-\infty$).

    With `return_indices=True` also return, for every output, the position inside its window
    (row-major, $i k_W + j$) of the value kept: the first largest one, as torch keeps it.

    Examples:
        >>> import numpy as np
        >>> from dismantle import functional as F
        >>> x = np.array([[[[1.0, 2.0, 0.0, 0.0], [3.0, 4.0, 5.0, 5.0]]]])
        >>> F.max_pool2d(x, 2)
        array([[[[4., 5.]]]])
    """
    _no_ceil(ceil_mode, "max_pool2d")
    x, kernel, stride, pads, dilation = _pool_args(input, kernel_size, stride, padding, dilation, "max_pool2d")
    xp = _pad(x, pads, -np.inf)
    taps = _taps(xp.shape, kernel, stride, dilation)
    y = xp[taps[0]].copy()  # the window's first entry, then each later one that beats it
    where = np.zeros(y.shape, np.intp)
    for index, tap in enumerate(taps[1:], start=1):
        v = xp[tap]
        beats = _beats(v, y)
        np.copyto(y, v, where=beats)
        np.copyto(where, index, where=beats)
    return (y, where) if return_indices else y


def _beats(v, kept):
    """Where a later entry of the window replaces the one kept so far: only when strictly larger,
    so the first largest entry (row-major) stays, torch's rule for ties."""
    return v > kept


def _taps(shape, kernel, stride, dilation):
    """For each tap (i, j) of the kernel, row-major, the strided slice of the padded input it meets
    in every window: `xp[taps[i * kW + j]]` has the output's shape (N, C, Ho, Wo)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = (shape[2] - dh * (kh - 1) - 1) // sh + 1, (shape[3] - dw * (kw - 1) - 1) // sw + 1
    return [(Ellipsis, slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))
            for i in range(kh) for j in range(kw)]


def max_pool2d_backward(grad_output, where, input_shape, kernel_size, stride=None, padding=0, dilation=1):
    r"""Send each output's gradient to the one input its window kept; 0 everywhere else.

    $\partial y/\partial x$ is 1 for the kept entry and 0 for the others (the max is locally
    just that entry). Where windows overlap, an input kept by several outputs adds their
    gradients. `where` is what `max_pool2d(..., return_indices=True)` returned.
    """
    kernel = _pair(kernel_size, "max_pool2d kernel_size", 1)
    stride = kernel if stride is None else _pair(stride, "max_pool2d stride", 1)
    pad, dilation = _pair(padding, "max_pool2d padding", 0), _pair(dilation, "max_pool2d dilation", 1)
    pads = ((pad[0], pad[0]), (pad[1], pad[1]))
    n, c, h, w = input_shape
    grad = np.zeros((n, c, h + 2 * pad[0], w + 2 * pad[1]), grad_output.dtype)
    zero = grad_output.dtype.type(0)
    for index, tap in enumerate(_taps(grad.shape, kernel, stride, dilation)):
        grad[tap] += np.where(where == index, grad_output, zero)  # each tap: a strided slice, no collisions
    return _crop(grad, pads)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    r"""Average pooling: the mean of each window, $y = \frac{1}{D}\sum_{i,j} x_{r s + i,\, q s + j}$.

    $D = k_H k_W$, or with `count_include_pad=False` the number of real (unpadded) pixels in
    the window, or `divisor_override`.

    Examples:
        >>> import numpy as np
        >>> from dismantle import functional as F
        >>> F.avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)
        array([[[[ 2.5,  4.5],
                 [10.5, 12.5]]]])
    """
    _no_ceil(ceil_mode, "avg_pool2d")
    x, kernel, stride, pads, _ = _pool_args(input, kernel_size, stride, padding, 1, "avg_pool2d")
    divisor = _divisor(x.shape, kernel, stride, pads, count_include_pad, divisor_override, x.dtype)
    return _windows(_pad(x, pads), kernel, stride, (1, 1)).sum(axis=(-2, -1)) / divisor


def _divisor(shape, kernel, stride, pads, count_include_pad, divisor_override, dtype):
    if divisor_override is not None:
        check_count(divisor_override, "avg_pool2d: divisor_override")
        return dtype.type(divisor_override)
    if count_include_pad or pads == ((0, 0), (0, 0)):
        return dtype.type(kernel[0] * kernel[1])
    real = _pad(np.ones((1, 1, *shape[2:]), dtype), pads)
    return _windows(real, kernel, stride, (1, 1)).sum(axis=(-2, -1))[0, 0]  # (Ho, Wo) real pixels


def avg_pool2d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0, count_include_pad=True,
                        divisor_override=None):
    r"""Share each output's gradient equally among its window: $\partial y/\partial x = 1/D$ for each."""
    kernel = _pair(kernel_size, "avg_pool2d kernel_size", 1)
    stride = kernel if stride is None else _pair(stride, "avg_pool2d stride", 1)
    pad = _pair(padding, "avg_pool2d padding", 0)
    pads = ((pad[0], pad[0]), (pad[1], pad[1]))
    g = grad_output / _divisor(input_shape, kernel, stride, pads, count_include_pad, divisor_override,
                               grad_output.dtype)
    cols = np.broadcast_to(g[..., None, None], (*g.shape, *kernel))
    n, c, h, w = input_shape
    return _crop(_fold(cols, (n, c, h + 2 * pad[0], w + 2 * pad[1]), stride, (1, 1)), pads)


class _Pool(Module):
    def _check_grad(self, grad_output, shape):
        g = as_float_array(grad_output, f"{type(self).__name__}.backward grad_output")
        if g.shape != shape:
            raise ValueError(f"{type(self).__name__}.backward grad_output: expected shape {shape}, got {g.shape}")
        return g


class MaxPool2d(_Pool):
    r"""Keep the largest value of each window: `max_pool2d` as a layer (no parameters).

    The gradient goes to the first largest entry of each window in row-major order (torch's
    choice for ties), see `max_pool2d_backward`.

    Args:
        kernel_size: an int or a pair.
        stride: defaults to `kernel_size` (windows side by side).
        padding: $-\infty$ added on each side, at most half the kernel.
        dilation: the spacing of the taps.
        return_indices: only torch's default `False` is built.
        ceil_mode: only torch's default `False` is built.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> dm.MaxPool2d(2)(np.ones((1, 3, 8, 8))).shape
        (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        _no_ceil(ceil_mode, "MaxPool2d")
        if return_indices:
            raise ValueError("MaxPool2d: only return_indices=False is built (use functional.max_pool2d)")
        self.kernel_size = _pair(kernel_size, "MaxPool2d kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "MaxPool2d stride", 1)
        self.padding, self.dilation = _pair(padding, "MaxPool2d padding", 0), _pair(dilation, "MaxPool2d dilation", 1)
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        """Return the pooled `x`; save which entry each window kept."""
        y, where = max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, return_indices=True)
        self.save_for_backward(where, x.shape, y.shape)
        return y

    def backward(self, grad_output, *, input_grad=True):
        """Route each output's gradient to the entry its window kept."""
        where, x_shape, y_shape = self.saved(peek=True)
        g = self._check_grad(grad_output, y_shape)
        self.saved()
        if not input_grad:
            return None
        return max_pool2d_backward(g, where, x_shape, self.kernel_size, self.stride, self.padding, self.dilation)

    def __repr__(self):
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"


class AvgPool2d(_Pool):
    r"""Average each window: `avg_pool2d` as a layer (no parameters).

    Args:
        kernel_size: an int or a pair.
        stride: defaults to `kernel_size`.
        padding: zeros added on each side, at most half the kernel.
        ceil_mode: only torch's default `False` is built.
        count_include_pad: count the padded zeros in each mean's divisor (torch's default).
        divisor_override: a fixed divisor instead.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> dm.AvgPool2d(2)(np.ones((1, 3, 8, 8))).shape
        (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        _no_ceil(ceil_mode, "AvgPool2d")
        self.kernel_size = _pair(kernel_size, "AvgPool2d kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "AvgPool2d stride", 1)
        self.padding = _pair(padding, "AvgPool2d padding", 0)
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        """Return the window means of `x`."""
        y = avg_pool2d(x, self.kernel_size, self.stride, self.padding, False, self.count_include_pad,
                       self.divisor_override)
        self.save_for_backward(x.shape, y.shape)
        return y

    def backward(self, grad_output, *, input_grad=True):
        """Share each output's gradient equally among its window."""
        x_shape, y_shape = self.saved(peek=True)
        g = self._check_grad(grad_output, y_shape)
        self.saved()
        if not input_grad:
            return None
        return avg_pool2d_backward(g, x_shape, self.kernel_size, self.stride, self.padding, self.count_include_pad,
                                   self.divisor_override)

    def __repr__(self):
        return f"AvgPool2d(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"


class Flatten(Module):
    r"""Merge the axes `start_dim` ... `end_dim` into one: `(N, C, H, W)` becomes `(N, C·H·W)`.

    Nothing is computed, so the backward pass only reshapes the gradient back.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> dm.Flatten()(np.ones((2, 16, 2, 2))).shape
        (2, 64)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        """Return `x` with the axes `start_dim..end_dim` merged."""
        x = as_float_array(x, "Flatten input")
        start, end = (d % max(x.ndim, 1) if -x.ndim <= d < x.ndim else None for d in (self.start_dim, self.end_dim))
        if start is None or end is None or start > end:
            raise ValueError(f"Flatten: start_dim={self.start_dim}, end_dim={self.end_dim} do not fit an input of "
                             f"shape {x.shape}")
        self.save_for_backward(x.shape)
        return x.reshape(*x.shape[:start], math.prod(x.shape[start:end + 1]), *x.shape[end + 1:])

    def backward(self, grad_output, *, input_grad=True):
        """Reshape the gradient back to the input's shape."""
        (shape,) = self.saved(peek=True)
        g = as_float_array(grad_output, "Flatten.backward grad_output")
        if g.size != math.prod(shape):
            raise ValueError(f"Flatten.backward grad_output: expected {math.prod(shape)} entries, got shape {g.shape}")
        self.saved()
        return g.reshape(shape) if input_grad else None

    def __repr__(self):
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"
