r"""The fully connected layer $z = x W^\top + b$."""

import numpy as np

from ._checks import RELEASED, as_float_array, as_rng, cached, check_count, check_ndim, check_same_dtype, check_shape
from .module import Module, Parameter


class Linear(Module):
    r"""Affine map $z = x W^\top + b$, with `weight` $W$ stored as `(out_features, in_features)`.

    One row of $W$ is one neuron: $z_j = \sum_i x_i W_{ji} + b_j$. The derivatives,
    for an upstream gradient $G = \partial L/\partial z$ of shape `(N, out_features)`, are

    $$
    \frac{\partial L}{\partial x} = G\,W, \qquad
    \frac{\partial L}{\partial W} = G^\top x, \qquad
    \frac{\partial L}{\partial b} = \sum_{n} G_{n,:}.
    $$

    Shape:
        - Input: `(N, in_features)`.
        - Output: `(N, out_features)`.

    Args:
        in_features: size of each input row.
        out_features: number of neurons, the size of each output row.
        rng: a `numpy.random.Generator` or an int seed for the initial values; `None` makes a
            fresh, unseeded one.
        dtype: `np.float64` (default) or `np.float32`; inputs must have the same dtype.

    Attributes:
        weight: `Parameter` of shape `(out_features, in_features)`, drawn from
            $\mathcal{U}(-k, k)$ with $k = 1/\sqrt{\text{in\_features}}$, as in `torch.nn.Linear`.
        bias: `Parameter` of shape `(out_features,)`, drawn from the same distribution.

    Examples:
        >>> import numpy as np
        >>> from dismantle import Linear
        >>> layer = Linear(3, 2, rng=np.random.default_rng(0))
        >>> layer(np.ones((4, 3))).shape
        (4, 2)
    """

    def __init__(self, in_features, out_features, *, rng=None, dtype=np.float64):
        check_count(in_features, "Linear: in_features")
        check_count(out_features, "Linear: out_features")
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise TypeError(f"Linear: dtype must be float32 or float64, got {np.dtype(dtype)}")
        rng = as_rng(rng, "Linear")
        k = 1.0 / np.sqrt(in_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(rng.uniform(-k, k, (out_features, in_features)).astype(dtype))
        self.bias = Parameter(rng.uniform(-k, k, out_features).astype(dtype))
        self._x = None

    def forward(self, x):
        """Return $x W^\\top + b$ and cache `x` for `backward`.

        The cache is a private copy unless `x` is a read-only array that owns its data (as the
        outputs of `ReLU`, `Sigmoid`, `Tanh` and `Softmax` are): changing `x` in place before
        `backward` then cannot change the weight gradient.
        """
        x = as_float_array(x, "Linear input")
        check_ndim(x, 2, "Linear input", f"(N, {self.in_features})")
        check_shape(x, (x.shape[0], self.in_features), "Linear input")
        check_same_dtype(x, self.weight.data.dtype, "Linear input")
        self._x = x if not x.flags.writeable and x.flags.owndata else x.copy()
        z = x @ self.weight.data.T
        z += self.bias.data  # in place: no second (N, out) array
        return z

    input_grad_optional = True

    def backward(self, grad_output, input_grad=True):
        """Add $G^\\top x$ into `weight.grad`, $\\sum_n G_n$ into `bias.grad`; return $G W$.

        With `input_grad=False` the product $G W$ is skipped and `None` returned: the layer that
        reads the data needs no gradient for it (torch skips it too, for inputs without
        `requires_grad`), and it would cost as much as the weight gradient itself.
        """
        x = cached(self._x, self)
        g = as_float_array(grad_output, "Linear.backward grad_output")
        check_shape(g, (x.shape[0], self.out_features), "Linear.backward grad_output")
        check_same_dtype(g, self.weight.data.dtype, "Linear.backward grad_output")
        self._x = RELEASED  # one backward per forward
        self.weight.grad += g.T @ x  # (out, N) @ (N, in): one row per neuron, like weight
        self.bias.grad += g.sum(axis=0)  # the bias touches every sample, so its gradients add
        return g @ self.weight.data if input_grad else None

    def parameters(self):
        """`[weight, bias]`, in torch's order."""
        return [self.weight, self.bias]

    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"
