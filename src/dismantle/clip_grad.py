r"""Gradient clipping, as torch's `torch.nn.utils`: `clip_grad_norm_` and `clip_grad_value_`."""

import math
from numbers import Real

import numpy as np

from .module import Parameter


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Scale every gradient by $\min\bigl(1, \frac{c}{\lVert g\rVert_p + 10^{-6}}\bigr)$, in place; return $\lVert g\rVert_p$.

    The gradients of all the parameters are treated as one long vector $g$. Its $p$-norm is
    the $p$-norm of the per-parameter norms (for $p = 2$: the square root of the sum of every
    squared entry; for $p = \infty$: the largest $|g_i|$). When that total exceeds `max_norm`
    $c$, every gradient is multiplied by the same factor, so the step keeps its *direction*
    and only its length shrinks to about $c$:

    $$
    \lVert g\rVert_p = \Bigl\lVert \bigl(\lVert g^{(1)}\rVert_p, \dots,
        \lVert g^{(k)}\rVert_p\bigr) \Bigr\rVert_p, \qquad
    g^{(j)} \leftarrow g^{(j)} \cdot \min\Bigl(1, \frac{c}{\lVert g\rVert_p + 10^{-6}}\Bigr).
    $$

    As in torch the factor is applied even when it is 1, and a non-finite norm is not
    special-cased: an `inf` gradient makes the factor 0, and `inf · 0` is NaN. With
    `error_if_nonfinite=True` a non-finite norm raises torch's `RuntimeError` instead, before
    any gradient is changed. Parameters whose `grad` is `None` are skipped.

    Args:
        parameters: a `Parameter` or an iterable of them (for example `model.parameters()`).
        max_norm: $c \ge 0$, the largest norm allowed.
        norm_type: $p$, a positive real number or `float("inf")` (default 2).
        error_if_nonfinite: raise if the total norm is `nan`, `inf` or `-inf`.
        foreach: accepted for torch's signature; NumPy has one code path, so it changes nothing.

    Returns:
        The total norm before clipping, a NumPy float of the gradients' dtype (0.0 when no
        parameter has a gradient).

    Raises:
        TypeError: when a parameter is not a `Parameter` or a setting is not a real number.
        ValueError: for a negative or NaN `max_norm`, or a `norm_type` that is not positive
            (torch would silently flip or blow up the gradients).
        RuntimeError: torch's message, when `error_if_nonfinite` and the norm is not finite.

    Examples:
        >>> import numpy as np
        >>> from dismantle import Parameter, clip_grad_norm_
        >>> p = Parameter(np.zeros(2))
        >>> p.grad[:] = [3.0, 4.0]
        >>> float(clip_grad_norm_([p], max_norm=1.0))  # the norm before clipping
        5.0
        >>> np.round(p.grad, 6)  # same direction, length 1
        array([0.6, 0.8])
    """
    params = _parameters(parameters, "clip_grad_norm_")
    max_norm = _real(max_norm, "max_norm")
    norm_type = _real(norm_type, "norm_type")
    if math.isnan(max_norm) or max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be a number >= 0, got {max_norm}")
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 (or inf), got {norm_type}")
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return np.float64(0.0)
    norms = [np.linalg.norm(g.ravel(), norm_type) for g in grads]  # one norm per parameter
    total = np.linalg.norm(np.array(norms, dtype=np.result_type(*grads)), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`")
    factor = np.minimum(max_norm / (total + 1e-6), 1.0)  # np.minimum keeps a NaN, as torch.clamp does
    with np.errstate(invalid="ignore"):  # inf * 0 is NaN, silently, as in torch
        for g in grads:
            g *= factor.astype(g.dtype)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    r"""Clamp every gradient entry into $[-c, c]$, in place: $g_i \leftarrow \max(-c, \min(c, g_i))$.

    Unlike `clip_grad_norm_`, each entry is clipped on its own, so a clipped gradient can point
    in a new direction. NaN entries stay NaN, as in torch. Parameters whose `grad` is `None`
    are skipped.

    Args:
        parameters: a `Parameter` or an iterable of them.
        clip_value: $c \ge 0$.
        foreach: accepted for torch's signature; changes nothing here.

    Raises:
        TypeError: when a parameter is not a `Parameter` or `clip_value` is not a real number.
        ValueError: for a negative or NaN `clip_value` (torch would set every entry to that
            negative value).

    Examples:
        >>> import numpy as np
        >>> from dismantle import Parameter, clip_grad_value_
        >>> p = Parameter(np.zeros(3))
        >>> p.grad[:] = [-5.0, 0.5, 3.0]
        >>> clip_grad_value_([p], 1.0)
        >>> p.grad
        array([-1. ,  0.5,  1. ])
    """
    params = _parameters(parameters, "clip_grad_value_")
    clip_value = _real(clip_value, "clip_value")
    if math.isnan(clip_value) or clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be a number >= 0, got {clip_value}")
    for p in params:
        if p.grad is not None:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)


def _parameters(parameters, owner):
    """A list of `Parameter` from one `Parameter` or an iterable of them, or a TypeError."""
    params = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"{owner}: expected Parameter objects, got {type(p).__name__}")
    return params


def _real(value, name):
    """`value` as a float, or a TypeError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (Real, str)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        return float(value)  # torch also accepts the string "inf"
    except ValueError:
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
