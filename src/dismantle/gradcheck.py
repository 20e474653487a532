r"""Central finite differences: a second oracle for every gradient, independent of torch.

An oracle that can approve a wrong gradient is worse than none, so both functions here refuse
to guess: the input is perturbed where `f` actually reads it (any memory layout: transposed,
sliced, Fortran order), and a NaN or an infinity, in `f`'s value or in the analytical gradient,
is a failure that names the input and the element, never a silent pass. So is a central
difference that overflows, and so are tolerances under which no gradient could fail: NaN,
negative or infinite `atol`/`rtol` are refused before anything is computed. An `f` that changes
its inputs in place is named, and the inputs are put back as they came.
"""

import math
from numbers import Real

import numpy as np


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when an analytical gradient disagrees with the numerical one."""


def _check_eps(eps):
    if isinstance(eps, bool) or not isinstance(eps, Real) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps: expected a positive finite step, got {eps!r}")


def _check_tolerance(value, name):
    """Refuse a tolerance that is not a finite real >= 0: with NaN or inf nothing can fail."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"gradcheck: {name} must be a real number >= 0, got {type(value).__name__} {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"gradcheck: {name} must be a finite number >= 0, got {value!r}")


def _scalar(value, where):
    """`value` as a float, or a ValueError saying that `f` must return a scalar."""
    shape = np.shape(value)
    if np.size(value) != 1 or isinstance(value, (str, bytes)):
        raise ValueError(f"{where}: f must return a scalar (a float or a size-1 array), got shape {shape}")
    return float(np.asarray(value).reshape(()))


def _float64_input(x, name):
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"{name}: expected a float64 ndarray, got {got}")
    if not x.flags.writeable:
        raise ValueError(f"{name}: expected a writeable array (it is perturbed in place), got a read-only one")
    return x


def _restore(inputs, saved, message):
    """Put back every input `f` changed in place, then raise ValueError(`message` with its number)."""
    changed = [k for k, (x, s) in enumerate(zip(inputs, saved)) if not np.array_equal(x, s, equal_nan=True)]
    for k in changed:
        inputs[k][...] = saved[k]
    if changed:
        raise ValueError(message.format(changed[0]) + " (a finite difference needs f to leave it alone; it is restored)")


def _central(f, x, eps):
    """Central differences of `f()` over every element of `x`, written through `x` itself.

    `x[idx] = ...` writes into the very memory `x` views, whatever its strides; a reshaped
    copy would leave `f` reading the unperturbed values. Returns `(grad, None)`, or stops at
    the first element where `f`, or the difference itself, is not finite and returns
    `(None, (idx, message))`.
    """
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        orig = x[idx]
        try:
            x[idx] = orig + eps
            up = _scalar(f(), "gradcheck")
            x[idx] = orig - eps
            down = _scalar(f(), "gradcheck")
        finally:
            x[idx] = orig
        for value in (up, down):
            if not math.isfinite(value):
                return None, (idx, f"f returned {value} when nudged by ±{eps}")
        grad[idx] = (up - down) / (2 * eps)
        if not math.isfinite(grad[idx]):  # f(x + eps) - f(x - eps) overflowed: |g - inf| <= inf would pass
            return None, (idx, f"the central difference is not finite ({grad[idx]})")
    return grad, None


def numerical_gradient(f, x, eps=1e-6):
    r"""Estimate $\partial f/\partial x$ by central differences: $\dfrac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon}$.

    `x` is perturbed *in place*, one element at a time, and restored afterwards, so `f`
    may read `x` through a closure (for example a layer's `weight.data`). Any memory layout
    works: a transposed or sliced `x` is nudged in the memory it shares with its base.

    Args:
        f: a callable with no arguments that returns a scalar.
        x: a writeable float64 ndarray that `f` depends on.
        eps: the step $\varepsilon > 0$.

    Returns:
        An array shaped like `x` (C order).

    Raises:
        ValueError: when `f` returns NaN or an infinity at a nudged point (the message names
            the element), when `f` is not scalar-valued or changes `x` in place, or when `eps`
            is not positive.
        TypeError: when `x` is not a float64 ndarray.

    Examples:
        >>> import numpy as np
        >>> from dismantle import numerical_gradient
        >>> x = np.array([1.0, -2.0])
        >>> numerical_gradient(lambda: (x ** 2).sum(), x).round(6)  # d(x^2)/dx = 2x
        array([ 2., -4.])
    """
    _check_eps(eps)
    x = _float64_input(x, "numerical_gradient: x")
    saved = x.copy()
    grad, bad = _central(f, x, eps)
    _restore([x], [saved], "numerical_gradient: f changed x in place")
    if bad is not None:
        raise ValueError(f"numerical_gradient: at element {bad[0]} of x, {bad[1]}")
    return grad


def gradcheck(f, inputs, grads, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    r"""Check analytical gradients against central differences, like `torch.autograd.gradcheck`.

    Passes when $|g_{\text{analytic}} - g_{\text{numeric}}| \le \text{atol} + \text{rtol}\,|g_{\text{numeric}}|$
    for every element of every input. The defaults are torch's. A NaN or infinite analytical
    gradient, or an `f` that returns NaN or an infinity, always fails.

    Args:
        f: callable returning a scalar; it is called as `f(*inputs)` while the inputs are
            perturbed in place, so it may also ignore its arguments and read them by closure.
        inputs: list (or tuple) of writeable float64 ndarrays, in any memory layout.
        grads: list of analytical gradients, one per input, same shapes.
        eps: the finite-difference step, positive.
        atol: absolute tolerance, a finite number >= 0.
        rtol: relative tolerance, scaled by the numerical gradient, a finite number >= 0.
        raise_exception: raise `GradcheckError` on failure (default) instead of returning False.

    Returns:
        True when every gradient matches.

    Raises:
        GradcheckError: on a mismatch, a non-finite gradient or a non-finite `f`, naming the
            input and the element.
        ValueError, TypeError: for arguments that cannot be checked (a vector-valued `f`,
            `eps <= 0`, a NaN, negative or infinite tolerance, inputs that are not float64
            ndarrays, shapes that differ, an `f` that changes its inputs in place).

    Examples:
        >>> import numpy as np
        >>> from dismantle import gradcheck
        >>> x = np.array([1.0, -2.0])
        >>> gradcheck(lambda x: (x ** 2).sum(), [x], [2 * x])
        True
        >>> gradcheck(lambda x: (x ** 2).sum(), [x], [x], raise_exception=False)  # half the gradient
        False
    """
    _check_eps(eps)
    _check_tolerance(atol, "atol")
    _check_tolerance(rtol, "rtol")
    inputs, grads = _arguments(inputs, grads)
    saved = [x.copy() for x in inputs]
    try:
        value = _scalar(f(*inputs), "gradcheck")
        if not math.isfinite(value):
            raise GradcheckError(f"gradcheck: f returned {value} at the unperturbed inputs")
        for k, (x, g) in enumerate(zip(inputs, grads)):
            _check_one(lambda: f(*inputs), k, x, g, eps, atol, rtol)
    except GradcheckError:
        _restore(inputs, saved, "gradcheck: f changed input {} in place")
        if raise_exception:
            raise
        return False
    _restore(inputs, saved, "gradcheck: f changed input {} in place")
    return True


def _arguments(inputs, grads):
    """Validate `inputs` and `grads`; return the gradients as float arrays."""
    for name, seq in (("inputs", inputs), ("grads", grads)):
        if not isinstance(seq, (list, tuple)):
            raise TypeError(f"gradcheck {name}: expected a list or tuple of ndarrays, got {type(seq).__name__}")
    if len(inputs) != len(grads):
        raise ValueError(f"gradcheck: expected one gradient per input, got {len(grads)} for {len(inputs)}")
    checked = []
    for k, (x, g) in enumerate(zip(inputs, grads)):
        _float64_input(x, f"gradcheck input {k}")
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            got = g.dtype if isinstance(g, np.ndarray) else type(g).__name__
            raise TypeError(f"gradcheck gradient {k}: expected a float ndarray, got {got}")
        if g.shape != x.shape:
            raise ValueError(f"gradcheck: input {k} has shape {x.shape} but its gradient has {g.shape}")
        checked.append(g)
    return inputs, checked


def _check_one(f, k, x, g, eps, atol, rtol):
    """Compare gradient `g` of input `k` with central differences; raise `GradcheckError` if off."""
    nonfinite = ~np.isfinite(g)
    if nonfinite.any():
        i = _first(nonfinite)
        raise GradcheckError(f"gradcheck: input {k} has a non-finite analytical gradient at index {i}: {float(g[i])}")
    numeric, bad = _central(f, x, eps)
    if bad is not None:
        raise GradcheckError(f"gradcheck: input {k} at index {bad[0]}: {bad[1]}")
    wrong = np.abs(g - numeric) > atol + rtol * np.abs(numeric)
    if wrong.any():
        i = _first(np.abs(g - numeric) == np.abs(g - numeric).max())
        raise GradcheckError(
            f"gradcheck: input {k} disagrees at {wrong.sum()} of {wrong.size} elements; "
            f"worst at index {i}: analytical {float(g[i])!r}, numerical {float(numeric[i])!r}"
        )


def _first(mask):
    """The index tuple (plain ints) of the first True element of `mask`."""
    return tuple(int(i) for i in np.argwhere(mask)[0])
