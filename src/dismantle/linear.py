r"""The fully connected layer $z = x W^\top + b$."""

import numpy as np

from . import init
from ._checks import as_float_array, as_rng, check_count, check_ndim, check_same_dtype, check_shape
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
        bias: `False` for a layer without bias ($z = x W^\top$); `bias` is then `None`.
        rng: a `numpy.random.Generator` or an int seed for the initial values; `None` makes a
            fresh, unseeded one.
        dtype: `np.float64` (default) or `np.float32`; inputs must have the same dtype.

    Attributes:
        weight: `Parameter` of shape `(out_features, in_features)`, drawn from
            $\mathcal{U}(-k, k)$ with $k = 1/\sqrt{\text{in\_features}}$, as in `torch.nn.Linear`
            (its `kaiming_uniform_` with $a = \sqrt5$ has exactly this bound).
        bias: `Parameter` of shape `(out_features,)`, drawn from the same distribution, or
            `None` with `bias=False`.

    Examples:
        >>> import numpy as np
        >>> from dismantle import Linear
        >>> layer = Linear(3, 2, rng=np.random.default_rng(0))
        >>> layer(np.ones((4, 3))).shape
        (4, 2)
    """

    def __init__(self, in_features, out_features, bias=True, *, rng=None, dtype=np.float64):
        super().__init__()
        check_count(in_features, "Linear: in_features")
        check_count(out_features, "Linear: out_features")
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise TypeError(f"Linear: dtype must be float32 or float64, got {np.dtype(dtype)}")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear: bias must be True or False, got {type(bias).__name__}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.register_parameter("bias", Parameter(np.empty(out_features, dtype=dtype)) if bias else None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        r"""Draw `weight` and `bias` again from $\mathcal{U}(-k, k)$, $k = 1/\sqrt{\text{in\_features}}$, in place.

        torch writes the weight's draw as `kaiming_uniform_(weight, a=math.sqrt(5))`, whose
        bound $\sqrt3 \cdot \sqrt{2/(1 + 5)} / \sqrt{\text{fan\_in}}$ is $1/\sqrt{\text{fan\_in}}$;
        computing $k$ directly keeps every draw bit for bit what it has always been.
        """
        rng = as_rng(rng, "Linear")
        k = 1.0 / np.sqrt(self.in_features)
        init.uniform_(self.weight.data, -k, k, rng=rng)
        if self.bias is not None:
            init.uniform_(self.bias.data, -k, k, rng=rng)

    def forward(self, x):
        """Return $x W^\\top + b$ and save `x` for `backward`.

        What is saved is a private copy unless `x` is a read-only array that owns its data (as
        the outputs of `ReLU`, `Sigmoid`, `Tanh` and `Softmax` are): changing `x` in place
        before `backward` then cannot change the weight gradient.
        """
        x = as_float_array(x, "Linear input")
        check_ndim(x, 2, "Linear input", f"(N, {self.in_features})")
        check_shape(x, (x.shape[0], self.in_features), "Linear input")
        check_same_dtype(x, self.weight.data.dtype, "Linear input")
        self.save_for_backward(x if not x.flags.writeable and x.flags.owndata else x.copy())
        z = x @ self.weight.data.T
        if self.bias is not None:
            z += self.bias.data  # in place: no second (N, out) array
        return z

    def backward(self, grad_output, *, input_grad=True):
        """Add $G^\\top x$ into `weight.grad`, $\\sum_n G_n$ into `bias.grad`; return $G W$.

        With `input_grad=False` the product $G W$ is skipped and `None` returned: the layer that
        reads the data needs no gradient for it (torch skips it too, for inputs without
        `requires_grad`), and it would cost as much as the weight gradient itself.
        """
        (x,) = self.saved(peek=True)
        g = as_float_array(grad_output, "Linear.backward grad_output")
        check_shape(g, (x.shape[0], self.out_features), "Linear.backward grad_output")
        check_same_dtype(g, self.weight.data.dtype, "Linear.backward grad_output")
        self.saved()  # validated: one backward per forward
        self.weight.accumulate_grad(g.T @ x, copy=False)  # (out, N) @ (N, in): one row per neuron, like weight
        if self.bias is not None:
            self.bias.accumulate_grad(g.sum(axis=0), copy=False)  # every sample touches the bias: gradients add
        return g @ self.weight.data if input_grad else None

    def __repr__(self):
        no_bias = ", bias=False" if self.bias is None else ""
        return f"Linear(in_features={self.in_features}, out_features={self.out_features}{no_bias})"
