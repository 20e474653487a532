r"""Batch normalization: `BatchNorm1d` and `BatchNorm2d`, with torch's running statistics and buffers."""

from numbers import Real

import numpy as np

from ._checks import as_float_array, check_count, check_same_dtype, check_shape, float_dtype
from .module import Module, Parameter
from .normalization import check_eps, moments, normalize_backward


def running_update(old, batch, factor):
    r"""torch's running average, in place: $\text{new} = (1 - \text{factor})\cdot\text{old} + \text{factor}\cdot\text{batch}$."""
    old *= 1.0 - factor
    old += factor * batch
    return old


def uses_batch_statistics(module):
    """Batch statistics in training, and in evaluation too when no running statistics are kept (torch's rule)."""
    return module.training or module.running_mean is None


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input ranks they accept."""

    _dims = ()  # the accepted input ranks, set by each subclass

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *,
                 dtype=np.float64):
        super().__init__()
        name = type(self).__name__
        check_count(num_features, f"{name}: num_features")
        check_eps(eps, name)
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(momentum, Real)):
            raise TypeError(f"{name}: momentum must be a real number or None, got {type(momentum).__name__}")
        for flag, what in ((affine, "affine"), (track_running_stats, "track_running_stats")):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name}: {what} must be True or False, got {type(flag).__name__}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.dtype = float_dtype(dtype, name)
        self.register_parameter("weight", Parameter(np.ones(num_features, self.dtype)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, self.dtype)) if affine else None)
        tracked = track_running_stats
        self.register_buffer("running_mean", np.zeros(num_features, self.dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, self.dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64) if tracked else None)

    def reset_running_stats(self):
        """Running mean to zeros, running variance to ones, the batch count to 0, in place."""
        if self.track_running_stats:
            self.running_mean[...] = 0.0
            self.running_var[...] = 1.0
            self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        """`reset_running_stats()`, then `weight` to ones and `bias` to zeros."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data[...] = 1.0
            self.bias.data[...] = 0.0

    def _checked(self, x):
        name = f"{type(self).__name__} input"
        x = as_float_array(x, name)
        if x.ndim not in self._dims:
            ranks = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{name}: expected {ranks} input (got {x.ndim}D input)")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels (num_features) on axis 1, "
                             f"got shape {x.shape}")
        check_same_dtype(x, self.dtype, name)
        return x

    def forward(self, x):
        """Normalize with the batch's statistics (training) or the running ones (evaluation); update the running ones."""
        x = self._checked(x)
        axes = (0, *range(2, x.ndim))  # everything but the channel axis
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)
        batch = uses_batch_statistics(self)
        if batch:
            m = x.size // self.num_features
            if self.training and m == 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
            mean, var = moments(x, axes)
            if self.training and self.track_running_stats:
                self._track(mean.reshape(-1), var.reshape(-1) * (m / (m - 1)))  # unbiased, for the running one
        else:
            mean, var = self.running_mean.reshape(shape), self.running_var.reshape(shape)
        rstd = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean) * rstd
        self.save_for_backward(xhat, rstd, batch)
        if not self.affine:
            return xhat
        return xhat * self.weight.data.reshape(shape) + self.bias.data.reshape(shape)

    def _track(self, mean, unbiased_var):
        self.num_batches_tracked += 1
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        running_update(self.running_mean, mean, factor)
        running_update(self.running_var, unbiased_var, factor)

    def backward(self, grad_output, *, input_grad=True):
        """Add $\\sum G\\hat x$ into `weight.grad`, $\\sum G$ into `bias.grad`; return $\\partial L/\\partial x$."""
        xhat, rstd, batch = self.saved(peek=True)
        name = f"{type(self).__name__}.backward grad_output"
        g = as_float_array(grad_output, name)
        check_shape(g, xhat.shape, name)
        check_same_dtype(g, xhat.dtype, name)
        self.saved()
        axes = (0, *range(2, xhat.ndim))
        if self.affine:
            self.weight.accumulate_grad((g * xhat).sum(axis=axes), copy=False)
            self.bias.accumulate_grad(g.sum(axis=axes), copy=False)
            g = g * self.weight.data.reshape(rstd.shape)  # (1, C, 1, ...): broadcasts per channel
        if not input_grad:
            return None
        return normalize_backward(g, xhat, rstd, axes) if batch else g * rstd

    def __repr__(self):
        return (f"{type(self).__name__}({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats})")


class BatchNorm1d(_BatchNorm):
    r"""Normalize each channel over the batch (and every position), then scale and shift: $y = \hat x\,\gamma + \beta$.

    In training, channel $c$'s entries (over the batch and, for `(N, C, L)` or `(N, C, H, W)`,
    every position: $M$ values) give the batch mean $\mu_c$ and the **biased** variance
    $\sigma_c^2$ (divided by $M$), and

    $$
    \hat x = \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}, \qquad y = \hat x\,\gamma_c + \beta_c .
    $$

    With `track_running_stats` the buffers follow, exactly as torch's do: `num_batches_tracked`
    counts the training batches, and with $f$ = `momentum` (or $1/$`num_batches_tracked` when
    `momentum=None`, a plain average of every batch so far)

    $$
    \text{running\_mean} \leftarrow (1 - f)\,\text{running\_mean} + f\,\mu_c, \qquad
    \text{running\_var} \leftarrow (1 - f)\,\text{running\_var} + f\,\frac{M}{M-1}\sigma_c^2,
    $$

    the **unbiased** variance for the running one. In evaluation the running mean and variance
    replace $\mu_c$ and $\sigma_c^2$ (without running statistics, the batch's are used in both
    modes). The backward pass, with $g = \gamma\,\partial L/\partial y$ and bars for means over
    the channel's $M$ entries, is `normalize_backward`'s
    $\frac{1}{\sqrt{\sigma_c^2+\epsilon}}\big(g - \overline{g} - \hat x\,\overline{g\hat x}\big)$
    in training, and $g/\sqrt{\text{running\_var}+\epsilon}$ in evaluation, where the statistics are
    constants.

    Args:
        num_features: $C$, the number of channels (axis 1 of the input).
        eps: added to the variance under the square root (default `1e-5`).
        momentum: the weight $f$ of the new batch in the running averages (default 0.1), or
            `None` for the cumulative average.
        affine: learn `weight` ($\gamma$, ones) and `bias` ($\beta$, zeros).
        track_running_stats: keep `running_mean`, `running_var` and `num_batches_tracked`;
            `False` registers them as `None`.
        dtype: `np.float64` (default) or `np.float32` (keyword only).

    Attributes:
        weight, bias: `Parameter`s of shape `(C,)`, or `None` without `affine`.
        running_mean, running_var: buffers of shape `(C,)`, zeros and ones at first.
        num_batches_tracked: an int64 buffer of shape `()`.

    Shape:
        - Input: `(N, C)` or `(N, C, L)`: each channel is normalized over the batch and every position.
        - Output: the same shape.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> bn = dm.BatchNorm1d(2)
        >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
        >>> np.round(bn(x), 4)
        array([[-1., -1.],
               [ 1.,  1.]])
        >>> bn.running_mean, bn.running_var, bn.num_batches_tracked
        (array([0.2, 2. ]), array([ 1.1, 20.9]), array(1))
        >>> [name for name, _ in bn.named_buffers()]
        ['running_mean', 'running_var', 'num_batches_tracked']
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    r"""`BatchNorm1d` for images: each channel of `(N, C, H, W)` normalized over the batch and every pixel.

    Everything else (arguments, buffers, the running averages, train and eval, the backward pass)
    is `BatchNorm1d`'s, with $M = N \cdot H \cdot W$ values per channel.

    Shape:
        - Input: `(N, C, H, W)`.
        - Output: the same shape.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> bn = dm.BatchNorm2d(3)
        >>> y = bn(np.random.default_rng(0).normal(size=(4, 3, 5, 5)))
        >>> np.round(y.mean(axis=(0, 2, 3)), 10) + 0.0, np.round(y.std(axis=(0, 2, 3)), 4)
        (array([0., 0., 0.]), array([1., 1., 1.]))
    """

    _dims = (4,)
