r"""Central finite differences: a second oracle for every gradient, independent of torch."""

import numpy as np


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when an analytical gradient disagrees with the numerical one."""


def numerical_gradient(f, x, eps=1e-6):
    r"""Estimate $\partial f/\partial x$ by central differences: $\dfrac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon}$.

    `x` is perturbed *in place*, one element at a time, and restored afterwards, so `f`
    may read `x` through a closure (for example a layer's `weight.data`).

    Args:
        f: a callable with no arguments that returns a scalar.
        x: a float64 ndarray that `f` depends on.
        eps: the step $\varepsilon$.

    Returns:
        An array shaped like `x`.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"numerical_gradient: expected a float64 ndarray, got {got}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: writing flat writes x
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        up = float(f())
        flat[i] = orig - eps
        down = float(f())
        flat[i] = orig
        gflat[i] = (up - down) / (2 * eps)
    return grad


def gradcheck(f, inputs, grads, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    r"""Check analytical gradients against central differences, like `torch.autograd.gradcheck`.

    Passes when $|g_{\text{analytic}} - g_{\text{numeric}}| \le \text{atol} + \text{rtol}\,|g_{\text{numeric}}|$
    for every element of every input. The defaults are torch's.

    Args:
        f: callable returning a scalar; it is called as `f(*inputs)` while the inputs are
            perturbed in place, so it may also ignore its arguments and read them by closure.
        inputs: list of float64 ndarrays.
        grads: list of analytical gradients, one per input, same shapes.
        eps: the finite-difference step.
        atol: absolute tolerance.
        rtol: relative tolerance, scaled by the numerical gradient.
        raise_exception: raise `GradcheckError` on failure (default) instead of returning False.

    Returns:
        True when every gradient matches.
    """
    if len(inputs) != len(grads):
        raise ValueError(f"gradcheck: expected one gradient per input, got {len(grads)} for {len(inputs)}")
    for k, (x, g) in enumerate(zip(inputs, grads)):
        g = np.asarray(g)
        if g.shape != x.shape:
            raise ValueError(f"gradcheck: input {k} has shape {x.shape} but its gradient has {g.shape}")
        numeric = numerical_gradient(lambda: f(*inputs), x, eps)
        bad = np.abs(g - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            if not raise_exception:
                return False
            i = np.unravel_index(np.argmax(np.abs(g - numeric)), x.shape)
            raise GradcheckError(
                f"gradcheck: input {k} disagrees at {bad.sum()} of {bad.size} elements; "
                f"worst at index {i}: analytical {g[i]!r}, numerical {numeric[i]!r}"
            )
    return True
