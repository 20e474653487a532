r"""The non-linearities as layers: `ReLU`, `Sigmoid`, `Tanh` and `Softmax`.

Each `forward` saves what its `backward` needs, and `backward(grad_output)` returns
$\partial L/\partial z$ from $G = \partial L/\partial a$ (`None` with `input_grad=False`: with
no parameters, there is then nothing to compute). None of them has parameters.

The output $a$ comes back read-only: `Sigmoid`, `Tanh` and `Softmax` keep it for `backward`,
and torch saves ReLU's output for its backward too, so changing it in place would change the
gradient (torch raises "modified by an inplace operation" at backward; here the in-place
write itself fails). Being read-only and owning its data also lets the next `Linear` cache it
without a copy. Copy it (`a.copy()`) to get an array you can write to. `backward` uses up what
its forward saved: one backward per forward.
"""

import numpy as np

from . import functional as F
from ._checks import as_float_array, check_same_dtype, check_shape, frozen
from .module import Module


class _Activation(Module):
    """Shared plumbing: save one array and the dtype in `forward`; in `backward`, validate
    `grad_output`, then take the saved array."""

    def _keep(self, kept, dtype):
        self.save_for_backward(kept, dtype)
        return kept

    def _grad(self, grad_output):
        kept, dtype = self.saved(peek=True)
        name = f"{type(self).__name__}.backward grad_output"
        g = as_float_array(grad_output, name)
        check_shape(g, kept.shape, name)
        check_same_dtype(g, dtype, name)
        self.saved()  # validated: this backward will run, and use the saved values up
        return kept, g

    def __repr__(self):
        return f"{type(self).__name__}()"


class ReLU(_Activation):
    r"""Element-wise $a = \max(0, z)$, like `torch.nn.ReLU`.

    The derivative is $\partial a/\partial z = 1$ where $z > 0$ and $0$ elsewhere (0 at
    exactly $z = 0$, as in torch), so $\partial L/\partial z = G \odot \mathbf{1}[z > 0]$.

    Shape:
        - Input: any shape.
        - Output: same shape as the input.

    Examples:
        >>> import numpy as np
        >>> from dismantle import ReLU
        >>> act = ReLU()
        >>> act(np.array([[-0.2, 0.0, 0.6]]))
        array([[0. , 0. , 0.6]])
        >>> act.backward(np.ones((1, 3)))
        array([[0., 0., 1.]])
    """

    def forward(self, z):
        """Return $\\max(0, z)$ (read-only) and cache the mask $z > 0$, all backward needs."""
        z = as_float_array(z, "ReLU input")
        self._keep(np.asarray(z > 0), z.dtype)  # our own array: the caller cannot change it
        return frozen(F.relu(z))

    def backward(self, grad_output, *, input_grad=True):
        """Return $G \\odot \\mathrm{ReLU}'(z)$."""
        positive, g = self._grad(grad_output)
        if not input_grad:
            return None
        if np.isinf(g).any():  # inf * 0 would be NaN; np.where blocks an infinite gradient too
            return np.where(positive, g, 0)
        grad = np.asarray(g * positive)  # branch-free: several times faster than np.where on a random mask
        grad += 0.0  # -0.0 + 0.0 = +0.0, so blocked entries are +0.0, as in torch
        return grad


class Sigmoid(_Activation):
    r"""Element-wise $a = \sigma(z) = 1/(1 + e^{-z})$, like `torch.nn.Sigmoid`.

    Since $\sigma'(z) = \sigma(z)(1 - \sigma(z))$, the output $a$ is all `backward` needs:
    $\partial L/\partial z = G \odot a \odot (1 - a)$.

    Shape:
        - Input: any shape.
        - Output: same shape as the input, values in $[0, 1]$.

    Examples:
        >>> import numpy as np
        >>> from dismantle import Sigmoid
        >>> act = Sigmoid()
        >>> act(np.array([[2.0, -3.0]])).round(4)
        array([[0.8808, 0.0474]])
        >>> act.backward(np.ones((1, 2))).round(4)
        array([[0.105 , 0.0452]])
    """

    def forward(self, z):
        """Return $\\sigma(z)$ (read-only) and cache it."""
        a = frozen(F.sigmoid(z))
        return self._keep(a, a.dtype)

    def backward(self, grad_output, *, input_grad=True):
        """Return $G \\odot a(1 - a)$."""
        a, g = self._grad(grad_output)
        if not input_grad:
            return None
        return np.asarray(g * a * (1 - a))  # asarray: a 0-D product is a NumPy scalar


class Tanh(_Activation):
    r"""Element-wise $a = \tanh(z)$, like `torch.nn.Tanh`.

    Since $\tanh'(z) = 1 - \tanh^2(z)$, `backward` uses the cached output:
    $\partial L/\partial z = G \odot (1 - a^2)$.

    Shape:
        - Input: any shape.
        - Output: same shape as the input, values in $[-1, 1]$.

    Examples:
        >>> import numpy as np
        >>> from dismantle import Tanh
        >>> act = Tanh()
        >>> act(np.array([[0.0, 1.0]])).round(4)
        array([[0.    , 0.7616]])
    """

    def forward(self, z):
        """Return $\\tanh(z)$ (read-only) and cache it."""
        a = frozen(F.tanh(z))
        return self._keep(a, a.dtype)

    def backward(self, grad_output, *, input_grad=True):
        """Return $G \\odot (1 - a^2)$."""
        a, g = self._grad(grad_output)
        if not input_grad:
            return None
        return np.asarray(g * (1 - a * a))


class Softmax(_Activation):
    r"""Softmax over the last axis, $s_i = e^{z_i} / \sum_j e^{z_j}$, like `torch.nn.Softmax(dim=-1)`.

    The Jacobian is $J = \mathrm{diag}(s) - s s^\top$ (symmetric), so the vector-Jacobian
    product needs no $K \times K$ matrix:

    $$
    \frac{\partial L}{\partial z_j} = \sum_i G_i\, s_i(\delta_{ij} - s_j)
    = s_j \Bigl(G_j - \sum_i G_i s_i\Bigr).
    $$

    Shape:
        - Input: `(..., K)`, typically `(N, K)`.
        - Output: same shape, each row summing to 1.

    Examples:
        >>> import numpy as np
        >>> from dismantle import Softmax
        >>> act = Softmax()
        >>> act(np.array([[2.0, 3.0, 1.0]])).round(4)
        array([[0.2447, 0.6652, 0.09  ]])
    """

    def forward(self, z):
        """Return $\\mathrm{softmax}(z)$ along the last axis (read-only) and cache it."""
        s = frozen(F.softmax(z))
        return self._keep(s, s.dtype)

    def backward(self, grad_output, *, input_grad=True):
        """Return $s \\odot (G - \\sum_i G_i s_i)$, row by row, without building the Jacobian."""
        s, g = self._grad(grad_output)
        if not input_grad:
            return None
        return s * (g - (g * s).sum(axis=-1, keepdims=True))
