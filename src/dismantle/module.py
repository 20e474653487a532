r"""Parameters, the `Module` base class and `Sequential`: the skeleton every layer hangs on."""

import numpy as np

from ._checks import RELEASED, as_float_array, cached, check_shape


class Parameter:
    r"""A learnable array and the gradient that accumulates for it.

    `data` holds the values; `grad` has the same shape and dtype and starts at zeros.
    Every `backward` *adds* into `grad` (like torch), so call `zero_grad()` between steps.

    Args:
        data: the initial values, anything `np.asarray` reads as real numbers (an ndarray, a
            list, a float); copied into a new float ndarray (float64 for ints).

    Raises:
        TypeError: for data that is not real numbers (`None`, strings, complex, ragged lists).

    Examples:
        >>> import numpy as np
        >>> from dismantle import Parameter
        >>> p = Parameter(np.array([1.0, 2.0]))
        >>> p.grad
        array([0., 0.])
    """

    def __init__(self, data):
        self.data = _float_copy(data)
        self.grad = np.zeros_like(self.data)

    @property
    def shape(self):
        """The shape of `data` (and of `grad`)."""
        return self.data.shape

    def zero_grad(self):
        """Reset `grad` to zeros, in place."""
        self.grad.fill(0)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


def _float_copy(data):
    """A new float ndarray holding `data`, or a TypeError naming `Parameter`."""
    wanted = "Parameter: expected real numbers (an array-like of floats), got"
    try:
        arr = np.asarray(data)
    except ValueError:  # NumPy's "inhomogeneous shape"
        raise TypeError(f"{wanted} a ragged nested sequence") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{wanted} {arr.dtype if isinstance(data, (list, tuple, np.ndarray)) else type(data).__name__}")
    return np.array(arr, dtype=np.result_type(arr.dtype, np.float32))


class Module:
    r"""Base class: `module(x)` calls `forward(x)`; `backward(grad_output)` returns $\partial L/\partial x$.

    Subclasses cache in `forward` what `backward` needs, and add parameter gradients into
    `Parameter.grad` with `+=`. As in torch, one forward allows one backward: `backward` releases
    the cache, and a second call raises instead of silently adding the gradients again.
    What is cached cannot be changed behind the module's back: an input the caller owns is
    copied (`Linear`) or reduced to what backward needs (`ReLU`'s mask), and an output that
    is cached is handed back read-only (torch would raise at backward instead). A subclass whose `backward` also accepts `input_grad=False`
    (skip $\partial L/\partial x$, return `None`) sets `input_grad_optional = True`.
    """

    input_grad_optional = False

    def __call__(self, *args):
        return self.forward(*args)

    def forward(self, x):
        """Compute the output; subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, grad_output):
        """Return the gradient with respect to the input; subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")

    def parameters(self):
        """Return the list of this module's `Parameter` objects (none by default)."""
        return []

    def zero_grad(self):
        """Reset the gradient of every parameter to zero."""
        for p in self.parameters():
            p.zero_grad()


class Sequential(Module):
    r"""Chain modules: $f(x) = f_n(\dots f_2(f_1(x)))$; backward runs the chain in reverse.

    By the chain rule, $\dfrac{\partial L}{\partial x} = \dfrac{\partial L}{\partial a_n}
    \dfrac{\partial a_n}{\partial a_{n-1}} \cdots \dfrac{\partial a_1}{\partial x}$, so
    `backward` hands each module the gradient returned by the module after it.

    Args:
        *modules: the modules, in forward order.

    Examples:
        >>> from dismantle import Linear, Sequential
        >>> net = Sequential(Linear(3, 4), Linear(4, 2))
        >>> len(net.parameters())
        4
    """

    def __init__(self, *modules):
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: expected Module instances, got {type(m).__name__}")
        self.modules = list(modules)
        self._out_shape = None

    def __getitem__(self, i):
        return self.modules[i]

    def __len__(self):
        return len(self.modules)

    def forward(self, x):
        """Run every module in order; returns the last output."""
        for m in self.modules:
            x = m(x)
        self._out_shape = x.shape
        return x

    input_grad_optional = True

    def backward(self, grad_output, input_grad=True):
        """Run every module's `backward` in reverse order; returns $\\partial L/\\partial x$.

        With `input_grad=False` nothing needs the gradient of the input (the data): the first
        module may skip computing it, and `None` is returned.
        """
        shape = cached(self._out_shape, self)
        grad_output = as_float_array(grad_output, "Sequential.backward grad_output")
        check_shape(grad_output, shape, "Sequential.backward grad_output")
        if not self.modules:
            return grad_output if input_grad else None
        first, *later = self.modules
        self._out_shape = RELEASED
        for m in reversed(later):
            grad_output = m.backward(grad_output)
        if not input_grad and first.input_grad_optional:
            return first.backward(grad_output, input_grad=False)
        grad_input = first.backward(grad_output)
        return grad_input if input_grad else None

    def parameters(self):
        """All parameters of all modules, in forward order, each once (as torch lists shared ones)."""
        unique = {id(p): p for m in self.modules for p in m.parameters()}
        return list(unique.values())

    def __repr__(self):
        inner = ",\n  ".join(repr(m) for m in self.modules)
        return f"Sequential(\n  {inner}\n)"
