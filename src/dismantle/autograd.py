r"""A tiny reverse-mode autograd engine: the Polaris, rebuilt.

Every `Tensor` produced by an operation remembers its parents and a closure that pushes its
gradient back to them, by the chain rule $\dfrac{\partial L}{\partial a} \mathrel{+}=
\dfrac{\partial L}{\partial c}\,\dfrac{\partial c}{\partial a}$. `Tensor.backward()` visits the
graph in reverse topological order and calls those closures: that is all `loss.backward()` is.

Arithmetic follows IEEE 754 the way torch does, without NumPy's warnings: `inf - inf` is NaN,
`log(0)` is `-inf`, so a row of logits that is all `-inf` gives `logsumexp` $= -\infty$ and a
`log_softmax` (and gradients) of NaN, exactly torch's values. Only the data you hand to
`Tensor(...)` is checked: it may hold $\pm\infty$, never NaN.

Mixed operands follow torch's type promotion, a NumPy array standing for
`torch.from_numpy(array)`: float32 with float64 gives float64, except that a 0-d operand (or a
Python or NumPy scalar) never raises the dtype of an operand with dimensions. Integer and bool
arrays take the float operand's dtype; complex numbers are refused (there are none here).
`Tensor(x)` copies `x`, as `torch.tensor(x)` does, and constants and index arrays are copied
when the graph is built: changing them afterwards changes nothing `backward()` computes.
"""

import copy
import math
from numbers import Integral, Real

import numpy as np

from ._checks import check_labels, check_ndim
from ._operands import constant_array, leaf_array, result_dtype, torch_axes

_ieee = np.errstate(divide="ignore", invalid="ignore", over="ignore")  # torch's silence on inf and NaN


def _unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: a value broadcast to many places gets all their gradients."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    r"""A float array that records how it was made, so that `backward()` can differentiate it.

    Supports `+`, `-`, `*`, `/`, `**` (constant exponent), `@`, `sum`, `mean`, `relu`, `exp`,
    `log`, `logsumexp`, `log_softmax`, integer indexing and `.T`, with NumPy broadcasting.
    Gradients accumulate in `grad` with `+=`, as in torch, until `zero_grad()`.

    Args:
        data: a float32/float64 ndarray, copied (or a Python number or a list of numbers, made
            float64); $\pm\infty$ is allowed, NaN is an error.
        requires_grad: keep a gradient for this leaf.

    Examples:
        >>> import numpy as np
        >>> from dismantle.autograd import Tensor
        >>> w = Tensor(np.array([0.2, 0.1, 0.4]), requires_grad=True)
        >>> z = (Tensor(np.array([0.9, 0.5, 0.3])) * w).sum() + 0.1
        >>> z.backward()
        >>> w.grad
        array([0.9, 0.5, 0.3])
    """

    __array_ufunc__ = None  # `ndarray * Tensor` defers to Tensor.__rmul__ instead of looping element-wise

    def __init__(self, data, requires_grad=False, _parents=(), _op="leaf"):
        self.data = data if _parents else leaf_array(data)  # results may be NaN, as in torch
        self.requires_grad = requires_grad or any(p.requires_grad for p in _parents)
        self.grad = np.zeros_like(self.data) if self.requires_grad else None
        self._parents, self._op = _parents, _op
        self._backward = lambda: None

    @property
    def shape(self):
        """The shape of `data`."""
        return self.data.shape

    def __repr__(self):
        return f"Tensor(shape={self.shape}, op={self._op!r}, requires_grad={self.requires_grad})"

    def _child(self, data, parents, op, dtype=None):
        return Tensor(np.asarray(data, dtype=dtype or self.data.dtype), _parents=parents, _op=op)

    def _pair(self, other, op):
        """`other` as a Tensor, and both operands' data in the dtype torch gives `self <op> other`."""
        other = _operand(other, self, op)
        dtype = result_dtype(self.data, other.data)
        return self.data.astype(dtype, copy=False), other.data.astype(dtype, copy=False), other

    def _send(self, grad):
        if self.requires_grad:
            self.grad += _unbroadcast(grad, self.shape)

    @_ieee
    def __add__(self, other):
        a, b, other = self._pair(other, "+")
        out = self._child(a + b, (self, other), "add", a.dtype)

        def backward():  # d(a + b)/da = 1, d(a + b)/db = 1
            self._send(out.grad)
            other._send(out.grad)

        out._backward = backward
        return out

    @_ieee
    def __mul__(self, other):
        a, b, other = self._pair(other, "*")
        out = self._child(a * b, (self, other), "mul", a.dtype)

        def backward():  # d(ab)/da = b, d(ab)/db = a
            self._send(out.grad * b)
            other._send(out.grad * a)

        out._backward = backward
        return out

    @_ieee
    def __truediv__(self, other):
        a, b, other = self._pair(other, "/")
        out = self._child(a / b, (self, other), "div", a.dtype)

        def backward():  # d(a/b)/da = 1/b; d(a/b)/db = -a/b^2, formed as -(a/b)/b: torch's order, no b*b to overflow
            self._send(out.grad / b)
            other._send(-out.grad * (a / b / b))

        out._backward = backward
        return out

    @_ieee
    def __pow__(self, k):
        if not isinstance(k, Real) or isinstance(k, bool):
            raise TypeError(f"Tensor ** k: expected a constant int or float exponent, got {type(k).__name__}")
        k = int(k) if isinstance(k, Integral) else float(k)  # a NumPy scalar would widen float32 data
        out = self._child(self.data**k, (self,), "pow")
        if k == 0:  # x**0 = 1 is constant: gradient 0 (as torch), not 0 * 0**-1 = NaN at x = 0
            out._backward = lambda: self._send(np.zeros_like(out.grad))
        else:  # power rule, formed as torch forms it: G * (k x^(k-1)), never (G k) first
            out._backward = lambda: self._send(out.grad * (k * self.data ** (k - 1)))
        return out

    @_ieee
    def __matmul__(self, other):
        other = _operand(other, self, "@")
        if self.data.dtype != other.data.dtype:  # torch does not promote in a matrix product either
            raise TypeError(f"Tensor @: expected operands of one dtype, got {self.data.dtype} @ {other.data.dtype}")
        if self.data.ndim != 2 or other.data.ndim != 2 or self.shape[1] != other.shape[0]:
            raise ValueError(f"Tensor @: expected shapes (N, K) @ (K, M), got {self.shape} @ {other.shape}")
        out = self._child(self.data @ other.data, (self, other), "matmul")

        def backward():  # C = AB: dL/dA = G B^T, dL/dB = A^T G
            self._send(out.grad @ other.data.T)
            other._send(self.data.T @ out.grad)

        out._backward = backward
        return out

    @property
    def T(self):
        """The transpose of a 2-D tensor; its gradient is the transposed gradient."""
        out = self._child(self.data.T, (self,), "transpose")
        out._backward = lambda: self._send(out.grad.T)
        return out

    @_ieee
    def sum(self, axis=None, keepdims=False):
        """Sum over `axis`, torch's `dim`: an int or a tuple of ints (negative from the end), or
        None or `()` for every axis; every summed element gets the upstream gradient."""
        axes = torch_axes(axis, self.data.ndim, "Tensor.sum")
        out = self._child(self.data.sum(axis=axes, keepdims=keepdims), (self,), "sum")

        def backward():
            g = out.grad if keepdims or axes is None else np.expand_dims(out.grad, axes)
            self._send(np.broadcast_to(g, self.shape))

        out._backward = backward
        return out

    def mean(self, axis=None, keepdims=False):
        """The mean over `axis` (as in `sum`): the sum divided by $n$, the number of averaged
        elements, as torch divides (NaN if there are none)."""
        axes = torch_axes(axis, self.data.ndim, "Tensor.mean")
        n = self.data.size if axes is None else math.prod(self.shape[a] for a in axes)
        total = self.sum(axis=axes, keepdims=keepdims)
        if n == 0:  # nothing to average: NaN with no gradient to pass (there are no elements)
            return self._child(np.full(total.shape, np.nan), (total,), "mean")
        return total / n

    @_ieee
    def relu(self):
        """$\\max(0, x)$; the gradient passes where $x > 0$ (0 at the kink, as in torch)."""
        out = self._child(np.where(self.data < 0, 0, self.data), (self,), "relu")  # keeps -0.0, as torch
        out._backward = lambda: self._send(np.where(self.data <= 0, 0, out.grad))  # a select: 0 * inf is NaN
        return out

    @_ieee
    def exp(self):
        """$e^x$, its own derivative."""
        out = self._child(np.exp(self.data), (self,), "exp")
        out._backward = lambda: self._send(out.grad * out.data)
        return out

    @_ieee
    def log(self):
        """$\\ln x$, with derivative $1/x$."""
        out = self._child(np.log(self.data), (self,), "log")
        out._backward = lambda: self._send(out.grad / self.data)
        return out

    @_ieee
    def logsumexp(self):
        """$\\log\\sum_k e^{x_k}$ over the last axis, stable; its gradient is the softmax.

        An infinite row maximum is replaced by 0 before shifting (torch does the same), so a row
        that is all `-inf` gives `-inf` instead of `-inf - (-inf)` = NaN.
        """
        x = self.data.reshape(self.shape or (1,))  # a 0-d tensor is its own row, as in torch
        m = x.max(axis=-1, keepdims=True, initial=-np.inf)  # an empty row: sum 0, log -inf, as torch
        m = np.where(np.isinf(m), 0, m)
        lse = m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True))  # shift by the max
        lse = lse.reshape(self.shape[:-1] + (1,) if self.shape else ())
        out = self._child(lse, (self,), "logsumexp")
        out._backward = lambda: self._send(out.grad * np.exp(self.data - lse))
        return out

    def log_softmax(self):
        """$z - \\log\\sum e^{z}$ over the last axis, built from `logsumexp` and `-`."""
        return self - self.logsumexp()

    def __getitem__(self, index):
        if any(isinstance(i, Tensor) for i in (index if isinstance(index, tuple) else (index,))):
            raise TypeError("Tensor index: expected ints, slices or integer arrays, got Tensor (index with an integer ndarray)")
        index = copy.deepcopy(index)  # an index array changed after this line must not move the gradient
        out = self._child(self.data[index], (self,), "index")

        def backward():
            g = np.zeros_like(self.data)
            np.add.at(g, index, out.grad)  # repeated indices add up
            self._send(g)

        out._backward = backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_operand(other, self, "-"))

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other):
        return _operand(other, self, "-") - self

    def __rtruediv__(self, other):
        return _operand(other, self, "/") / self

    @_ieee
    def backward(self, gradient=None):
        """Fill `.grad` of every tensor this one depends on, in reverse topological order."""
        if not self.requires_grad:
            raise ValueError("backward: this tensor does not depend on any tensor with requires_grad=True")
        if isinstance(gradient, Tensor):  # torch takes a tensor here
            gradient = gradient.data
        if gradient is not None and np.asarray(gradient).dtype.kind not in "biuf":
            raise TypeError(f"backward: expected a real gradient, got dtype {np.asarray(gradient).dtype}")
        if gradient is None:
            if self.data.size != 1:
                raise ValueError(f"backward: a gradient is implied only for a scalar output, got shape {self.shape}")
            gradient = np.ones_like(self.data)
        if np.shape(gradient) != self.shape:
            raise ValueError(f"backward: expected a gradient of shape {self.shape}, got {np.shape(gradient)}")
        order = _topological_order(self)
        for t in order:  # intermediate results start from zero; leaves keep accumulating
            if t._parents and t.requires_grad:
                t.grad = np.zeros_like(t.data)
        self.grad += gradient
        for t in reversed(order):
            if t.requires_grad:  # constants have no gradient to pass on
                t._backward()

    def zero_grad(self):
        """Reset `grad` to zeros."""
        if self.grad is not None:
            self.grad.fill(0)


def _topological_order(root):
    """Every tensor `root` depends on, parents before children: a depth-first search with its own
    stack (a recursive one would hit Python's recursion limit on a graph ~1,000 nodes deep)."""
    order, seen, stack = [], {id(root)}, [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p._parents)))
                break
        else:  # every parent is placed: place the node
            stack.pop()
            order.append(node)
    return order


def _operand(x, like, op):
    """The other operand of `like <op> x`: a Tensor as it is, a constant as torch takes it (copied)."""
    return x if isinstance(x, Tensor) else Tensor(constant_array(x, like.data.dtype, f"Tensor {op}"))


def cross_entropy(logits, labels):
    r"""$L = -\frac1N \sum_n \log\mathrm{softmax}(z_n)_{y_n}$, composed only of `Tensor` operations.

    Args:
        logits: a `(N, C)` `Tensor`.
        labels: an `(N,)` integer ndarray of classes in $[0, C-1]$.

    Returns:
        A scalar `Tensor`; its `backward()` yields $(p - Y)/N$ in `logits.grad` without ever
        writing that formula down.
    """
    check_ndim(logits.data, 2, "cross_entropy logits", "(N, C)")
    labels = check_labels(labels, logits.shape[1], "cross_entropy labels")
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(f"cross_entropy labels: expected shape ({logits.shape[0]},), got {labels.shape}")
    picked = logits.log_softmax()[np.arange(labels.shape[0]), labels]
    return -picked.mean()
