r"""Convolution: `functional.conv2d` as loops and as one matrix product, its backward, and `Conv2d`.

A 2-D convolution (in deep learning, a cross-correlation: the kernel is not flipped) slides
a small kernel over the image and takes a weighted sum at every position. For output channel
$o$ at row $r$, column $c$, with stride $s$, dilation $d$ and the input $x$ already padded,

$$
y_{n,o,r,c} = b_o + \sum_{k} \sum_{i,j} W_{o,k,i,j}\; x_{n,\,g C_g + k,\; r s + i d,\; c s + j d},
$$

where $k$ runs over the $C_g = C/\text{groups}$ input channels of $o$'s group $g$.
"""

import math
from numbers import Integral

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import init
from ._checks import as_float_array, as_rng, check_count, check_ndim, check_same_dtype, float_dtype
from .module import Module, Parameter


def _pair(value, name, minimum):
    """`(v, v)` from an int, or a checked pair of ints; `minimum` is the smallest allowed value."""
    pair = (value, value) if isinstance(value, Integral) and not isinstance(value, bool) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in pair)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        what = {0: "negative", 1: "non-positive"}[minimum]
        raise ValueError(f"{what} {name.split()[-1]} is not supported, got {value!r}")
    return tuple(int(v) for v in pair)


def _padding(padding, kernel, stride, dilation, name):
    """Padding as `((top, bottom), (left, right))`, from an int, a pair, `"valid"` or `"same"`.

    `"same"` pads $d(k-1)$ in total along each axis, the smaller half first (torch's rule: an
    odd total puts the extra row at the bottom, the extra column on the right).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding != "same":
            raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
        if stride != (1, 1):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions, got stride {stride}")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in totals)
    ph, pw = _pair(padding, f"{name} padding", 0)
    return ((ph, ph), (pw, pw))


def _windows(xp, kernel, stride, dilation):
    """Every window of the padded `xp` (N, C, Hp, Wp), as a view of shape (N, C, Ho, Wo, kH, kW)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    view = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]  # every s-th window; every d-th pixel inside it


def _fold(cols, shape, stride, dilation):
    """The adjoint of `_windows`: add each window's entries back where they came from (col2im)."""
    (sh, sw), (dh, dw) = stride, dilation
    n, c, ho, wo, kh, kw = cols.shape
    if (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and shape[2:] == (ho * kh, wo * kw):  # tiles: a reshape
        return cols.transpose(0, 1, 2, 4, 3, 5).reshape(shape)
    out = np.zeros(shape, cols.dtype)
    for i in range(kh):
        for j in range(kw):  # one kernel position at a time: a strided slice, no collisions
            out[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh, j * dw: j * dw + sw * (wo - 1) + 1: sw] += cols[..., i, j]
    return out


def _pad(x, pads, value=0.0):
    if pads == ((0, 0), (0, 0)):
        return x
    (top, bottom), (left, right) = pads
    out = np.full((*x.shape[:2], x.shape[2] + top + bottom, x.shape[3] + left + right), value, x.dtype)
    out[:, :, top: top + x.shape[2], left: left + x.shape[3]] = x
    return out


def _crop(xp, pads):
    (top, bottom), (left, right) = pads
    return xp[:, :, top: xp.shape[2] - bottom, left: xp.shape[3] - right]


def _check_window(x, pads, kernel, dilation, name):
    """Raise torch's error when the (dilated) kernel is larger than the padded input."""
    hp, wp = x.shape[2] + sum(pads[0]), x.shape[3] + sum(pads[1])
    eh, ew = (d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if eh > hp or ew > wp:
        raise ValueError(f"{name}: calculated padded input size per channel: ({hp} x {wp}). Kernel size: "
                         f"({eh} x {ew}). Kernel size can't be greater than actual input size")


def _conv_setup(x, weight, bias, stride, padding, dilation, groups, name="conv2d"):
    """Validate the operands of a convolution; return `(x, w, b, stride, pads, dilation, groups)`."""
    x = as_float_array(x, f"{name} input")
    check_ndim(x, 4, f"{name} input", "(N, C, H, W)")
    w = as_float_array(weight, f"{name} weight")
    check_ndim(w, 4, f"{name} weight", "(out_channels, in_channels / groups, kH, kW)")
    check_same_dtype(x, w.dtype, f"{name} input")
    check_count(groups, f"{name}: groups")
    if w.shape[0] % groups:
        raise ValueError(f"{name}: out_channels ({w.shape[0]}) must be divisible by groups ({groups})")
    if x.shape[1] != w.shape[1] * groups:
        raise ValueError(f"{name} input: expected {w.shape[1] * groups} channels (axis 1 of (N, C, H, W)) "
                         f"for a weight of shape {w.shape} and groups={groups}, got {x.shape[1]} channels")
    if bias is not None:
        b = as_float_array(bias, f"{name} bias")
        check_same_dtype(b, w.dtype, f"{name} bias")
        if b.shape != (w.shape[0],):
            raise ValueError(f"{name} bias: expected shape ({w.shape[0]},), got {b.shape}")
    stride = _pair(stride, f"{name} stride", 1)
    dilation = _pair(dilation, f"{name} dilation", 1)
    pads = _padding(padding, w.shape[2:], stride, dilation, name)
    _check_window(x, pads, w.shape[2:], dilation, name)
    return x, w, bias, stride, pads, dilation, groups


def conv2d_loops(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""The convolution written as plain loops, one multiply-add at a time: slow, and obviously right.

    This is the formula of the module docstring with nothing vectorised; the tests use it as a
    second oracle next to torch. Arguments as `conv2d`.

    Examples:
        >>> import numpy as np
        >>> from dismantle.conv import conv2d_loops
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> conv2d_loops(x, np.ones((1, 1, 2, 2)))[0, 0]
        array([[ 8., 12.],
               [20., 24.]])
    """
    x, w, b, (sh, sw), pads, (dh, dw), groups = _conv_setup(input, weight, bias, stride, padding, dilation, groups)
    xp = _pad(x, pads)
    n_out, c_group, kh, kw = w.shape
    ho, wo = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1, (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((x.shape[0], n_out, ho, wo), x.dtype)
    for n in range(x.shape[0]):
        for o in range(n_out):
            g = o // (n_out // groups)  # the group this output channel reads from
            for r in range(ho):
                for c in range(wo):
                    total = b[o] if b is not None else 0.0
                    for k in range(c_group):
                        for i in range(kh):
                            for j in range(kw):
                                total += w[o, k, i, j] * xp[n, g * c_group + k, r * sh + i * dh, c * sw + j * dw]
                    y[n, o, r, c] = total
    return y


def _im2col(x, kh, kw, stride, pads, dilation, groups):
    """The windows of `x` as rows: `(groups, N·Ho·Wo, C_g·kH·kW)`, one row per output pixel."""
    win = _windows(_pad(x, pads), (kh, kw), stride, dilation)
    n, c, ho, wo = win.shape[:4]
    cols = win.reshape(n, groups, c // groups, ho, wo, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
    return cols.reshape(groups, n * ho * wo, c // groups * kh * kw), (ho, wo)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    r"""2-D convolution as one matrix product per group (im2col): rows of windows times the kernels.

    Every output pixel's window of $C_g \cdot k_H \cdot k_W$ input values becomes a row of a
    matrix $X_{\text{col}}$; every kernel becomes a row of $W_{\text{mat}}$; then
    $Y = X_{\text{col}} W_{\text{mat}}^\top + b$, reshaped to `(N, out_channels, Ho, Wo)`, with
    $H_o = \lfloor (H + p_{\text{top}} + p_{\text{bottom}} - d(k_H - 1) - 1)/s \rfloor + 1$ (and
    the same for $W_o$). The numbers are those of `conv2d_loops`; only the order of the sums
    differs.

    Args:
        input: `(N, C, H, W)` float array.
        weight: `(out_channels, C / groups, kH, kW)`, same dtype.
        bias: `(out_channels,)` or `None`.
        stride: an int or a pair `(sH, sW)`, at least 1.
        padding: an int or a pair of zeros added on each side, or `"valid"` (none) or
            `"same"` (output as large as the input; stride 1 only).
        dilation: an int or a pair: the spacing between the kernel's taps.
        groups: split the channels into this many groups, each convolved on its own.

    Raises:
        ValueError: a wrong rank, a channel count that does not match the weight, a kernel
            larger than the padded input, a non-positive stride or dilation, negative padding.
        TypeError: non-float arrays, mixed dtypes, non-integer sizes.

    Examples:
        >>> import numpy as np
        >>> from dismantle import functional as F
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> F.conv2d(x, np.ones((1, 1, 2, 2)))[0, 0]
        array([[ 8., 12.],
               [20., 24.]])
        >>> F.conv2d(x, np.ones((1, 1, 3, 3)), padding="same").shape
        (1, 1, 3, 3)
    """
    x, w, b, stride, pads, dilation, groups = _conv_setup(input, weight, bias, stride, padding, dilation, groups)
    return _conv_forward(x, w, b, stride, pads, dilation, groups)[0]


def _conv_forward(x, w, b, stride, pads, dilation, groups):
    n_out, c_group, kh, kw = w.shape
    cols, (ho, wo) = _im2col(x, kh, kw, stride, pads, dilation, groups)
    wmat = w.reshape(groups, n_out // groups, c_group * kh * kw)
    y = cols @ wmat.transpose(0, 2, 1)  # (G, N·Ho·Wo, K) @ (G, K, O_g): every window against every kernel
    y = y.reshape(groups, x.shape[0], ho, wo, n_out // groups).transpose(1, 0, 4, 2, 3).reshape(-1, n_out, ho, wo)
    if b is not None:
        y += b[:, None, None]
    return y, cols


def conv2d_backward(grad_output, cols, input_shape, weight, stride=1, padding=0, dilation=1, groups=1,
                    input_grad=True):
    r"""The three gradients of a convolution, from the upstream $G = \partial L/\partial y$.

    Each weight meets many windows, so its gradient sums over all of them; each input pixel
    sits in many windows, so its gradient sums over all the outputs it fed:

    $$
    \frac{\partial L}{\partial W_{\text{mat}}} = G_{\text{mat}}^\top X_{\text{col}}, \qquad
    \frac{\partial L}{\partial b_o} = \sum_{n,r,c} G_{n,o,r,c}, \qquad
    \frac{\partial L}{\partial X_{\text{col}}} = G_{\text{mat}} W_{\text{mat}},
    $$

    and $\partial L/\partial x$ adds every row of $\partial L/\partial X_{\text{col}}$ back into
    the pixels its window came from (col2im), then drops the padding.

    Args:
        grad_output: `(N, out_channels, Ho, Wo)`.
        cols: the forward's windows, `(groups, N·Ho·Wo, C_g·kH·kW)`.
        input_shape: `(N, C, H, W)` of the forward's input.
        weight: the forward's weight. The other arguments as `conv2d`; `padding` as pads
            `((top, bottom), (left, right))` or as `conv2d` takes it.
        input_grad: `False` skips $\partial L/\partial x$ (returned as `None`).

    Returns:
        `(grad_input, grad_weight, grad_bias)`.
    """
    g = grad_output
    n_out, c_group, kh, kw = weight.shape
    stride, dilation = _pair(stride, "stride", 1), _pair(dilation, "dilation", 1)
    pads = padding if isinstance(padding, tuple) and isinstance(padding[0], tuple) else \
        _padding(padding, (kh, kw), stride, dilation, "conv2d_backward")
    n, ho, wo = g.shape[0], g.shape[2], g.shape[3]
    gmat = g.reshape(n, groups, n_out // groups, ho, wo).transpose(1, 0, 3, 4, 2).reshape(groups, n * ho * wo, -1)
    grad_w = (gmat.transpose(0, 2, 1) @ cols).reshape(weight.shape)  # (G, O_g, M) @ (G, M, K)
    grad_b = g.sum(axis=(0, 2, 3))  # every output pixel touches its channel's bias
    if not input_grad:
        return None, grad_w, grad_b
    dcols = gmat @ weight.reshape(groups, n_out // groups, c_group * kh * kw)  # (G, M, O_g) @ (G, O_g, K)
    dcols = dcols.reshape(groups, n, ho, wo, c_group, kh, kw).transpose(1, 0, 4, 2, 3, 5, 6)
    padded = (n, input_shape[1], input_shape[2] + sum(pads[0]), input_shape[3] + sum(pads[1]))
    grad_x = _fold(dcols.reshape(n, input_shape[1], ho, wo, kh, kw), padded, stride, dilation)
    return _crop(grad_x, pads), grad_w, grad_b


class Conv2d(Module):
    r"""2-D convolution layer: $y = W \star x + b$, one kernel per output channel, slid over the image.

    The formula, its loops and its gradients are in `conv2d`, `conv2d_loops` and
    `conv2d_backward`. The same few weights are used at every position (weight sharing), so
    the layer has $C_{\text{out}} \cdot (C_{\text{in}}/\text{groups}) \cdot k_H k_W$ weights
    however large the image.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output, one kernel each.
        kernel_size: an int or a pair `(kH, kW)`.
        stride: as `conv2d` (default 1).
        padding: as `conv2d` (default 0).
        dilation: as `conv2d` (default 1).
        groups: as `conv2d` (default 1).
        bias: `False` for no bias (`bias` is then `None`).
        padding_mode: only `"zeros"` (torch's default) is built.
        rng: a `numpy.random.Generator` or int seed for the initial values (keyword only).
        dtype: `np.float64` (default) or `np.float32`.

    Attributes:
        weight: `Parameter` `(out_channels, in_channels / groups, kH, kW)`, drawn by
            `init.kaiming_uniform_(a=√5)`, that is from $\mathcal{U}(-k, k)$ with
            $k = 1/\sqrt{\text{fan\_in}}$, $\text{fan\_in} = (\text{in\_channels}/\text{groups})\,k_H k_W$,
            as torch's `reset_parameters`.
        bias: `Parameter` `(out_channels,)` from the same $\mathcal{U}(-k, k)$, or `None`.

    Shape:
        Input `(N, C_in, H, W)`; output `(N, C_out, H_o, W_o)`.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> conv = dm.Conv2d(1, 4, 3, padding=1, rng=0)
        >>> conv.weight.shape, conv(np.ones((2, 1, 8, 8))).shape
        ((4, 1, 3, 3), (2, 4, 8, 8))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", *, rng=None, dtype=np.float64):
        super().__init__()
        check_count(in_channels, "Conv2d: in_channels")
        check_count(out_channels, "Conv2d: out_channels")
        check_count(groups, "Conv2d: groups")
        if in_channels % groups:
            raise ValueError(f"Conv2d: in_channels must be divisible by groups, got {in_channels} and {groups}")
        if out_channels % groups:
            raise ValueError(f"Conv2d: out_channels must be divisible by groups, got {out_channels} and {groups}")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is built, got {padding_mode!r}")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Conv2d: bias must be True or False, got {type(bias).__name__}")
        dtype = float_dtype(dtype, "Conv2d")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair(kernel_size, "Conv2d kernel_size", 1)
        self.stride = _pair(stride, "Conv2d stride", 1)
        self.dilation = _pair(dilation, "Conv2d dilation", 1)
        self.padding = padding if isinstance(padding, str) else _pair(padding, "Conv2d padding", 0)
        self._pads = _padding(padding, self.kernel_size, self.stride, self.dilation, "Conv2d")
        self.padding_mode = padding_mode
        self.weight = Parameter(np.empty((out_channels, in_channels // groups, *self.kernel_size), dtype=dtype))
        self.register_parameter("bias", Parameter(np.empty(out_channels, dtype=dtype)) if bias else None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        """Draw `weight` and `bias` again, in place, as torch's `Conv2d.reset_parameters` does."""
        rng = as_rng(rng, "Conv2d")
        init.kaiming_uniform_(self.weight.data, a=math.sqrt(5), rng=rng)
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight.data)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias.data, -bound, bound, rng=rng)

    def forward(self, x):
        """Return the convolution of `x`; save its windows for `backward`."""
        x, w, b, *_ = _conv_setup(x, self.weight.data, None if self.bias is None else self.bias.data,
                                  self.stride, self.padding, self.dilation, self.groups, "Conv2d")
        y, cols = _conv_forward(x, w, b, self.stride, self._pads, self.dilation, self.groups)
        self.save_for_backward(cols, x.shape, y.shape)
        return y

    def backward(self, grad_output, *, input_grad=True):
        """Add $\\partial L/\\partial W$ and $\\partial L/\\partial b$ into the grads; return $\\partial L/\\partial x$."""
        cols, x_shape, y_shape = self.saved(peek=True)
        g = as_float_array(grad_output, "Conv2d.backward grad_output")
        if g.shape != y_shape:
            raise ValueError(f"Conv2d.backward grad_output: expected shape {y_shape}, got {g.shape}")
        check_same_dtype(g, self.weight.data.dtype, "Conv2d.backward grad_output")
        self.saved()
        gx, gw, gb = conv2d_backward(g, cols, x_shape, self.weight.data, self.stride, self._pads, self.dilation,
                                     self.groups, input_grad=input_grad)
        self.weight.accumulate_grad(gw, copy=False)
        if self.bias is not None:
            self.bias.accumulate_grad(gb, copy=False)
        return gx

    def __repr__(self):
        extra = "" if self.stride == (1, 1) else f", stride={self.stride}"
        if self.padding not in (0, (0, 0)):
            extra += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            extra += f", dilation={self.dilation}"
        if self.groups != 1:
            extra += f", groups={self.groups}"
        if self.bias is None:
            extra += ", bias=False"
        return f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}{extra})"
