"""What torch makes of an operand: `Tensor` data, constants, dtype promotion, `dim` arguments.

The rules are stated once, for readers, in `dismantle.autograd`'s module docstring; these are
the helpers that apply them, kept apart so that the engine file holds the engine.
"""

from numbers import Real

import numpy as np

from ._checks import as_float_array


def leaf_array(data):
    """A copy of `data` as a float ndarray, as `torch.tensor` copies; Python numbers become float64."""
    if isinstance(data, Real) and not isinstance(data, bool):
        return np.array(float(data))
    if isinstance(data, (list, tuple)):
        array = np.array(data)
        if array.dtype.kind not in "iuf":
            raise TypeError(f"Tensor data: expected numbers, got a {type(data).__name__} of dtype {array.dtype}")
        data = array.astype(np.float64)
    return as_float_array(data, "Tensor data").copy()


def constant_array(x, like, name):
    """A copy of the constant `x` as a float array for an operation `name` on data of dtype `like`.

    A Python or NumPy scalar and an integer or bool array take the dtype `like`, as torch's never
    raise a float dtype; a float array keeps its own.
    """
    if not isinstance(x, (Real, complex, np.bool_, np.complexfloating, np.ndarray, list, tuple)):
        raise TypeError(f"{name}: expected a Tensor, a NumPy array or a real number, got {type(x).__name__}")
    array = np.array(x)  # a copy: the graph keeps the values it was built with
    if array.dtype.kind == "c":
        raise TypeError(f"{name}: expected a real operand (dismantle has no complex numbers), got {array.dtype}")
    if array.dtype.kind not in "biuf" or array.dtype.kind == "b" and name.endswith("-"):  # torch refuses bool - too
        raise TypeError(f"{name}: expected a real operand, got dtype {array.dtype}")
    if array.dtype.kind in "biu" or array.ndim == 0 and not isinstance(x, np.ndarray):
        with np.errstate(over="ignore"):  # 1e300 in float32 is inf, as torch computes it
            array = array.astype(like)
    return as_float_array(array, f"{name} operand")


def result_dtype(a, b):
    """torch's result dtype for two float arrays: a 0-d one never raises a dimensioned one's dtype."""
    if (a.ndim == 0) == (b.ndim == 0):
        return np.promote_types(a.dtype, b.dtype)
    return a.dtype if a.ndim else b.dtype


def torch_axes(axis, ndim, name):
    """torch's `dim` as NumPy's `axis`: None or `()` is every axis, negatives count from the end."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
    if not axes:
        return None  # torch reduces over every axis for dim=()
    axes = np.lib.array_utils.normalize_axis_tuple(axes, max(ndim, 1))  # a 0-d tensor has axis 0 (-1) in torch
    return axes if ndim else None
