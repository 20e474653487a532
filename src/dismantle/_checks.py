"""Input validation shared by every module: clear errors instead of silent broadcasts."""

import numpy as np

FLOATS = (np.float32, np.float64)


def as_float_array(x, name):
    """Return ``x`` if it is a float32/float64 ndarray without NaN, or raise ``TypeError``/``ValueError``."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a NumPy ndarray, got {type(x).__name__}")
    if x.dtype not in FLOATS:
        raise TypeError(f"{name}: expected dtype float32 or float64, got {x.dtype}")
    if np.isnan(x).any():  # ±inf is a number (a masked logit, say); NaN never is
        i = tuple(int(k) for k in np.argwhere(np.isnan(x))[0])
        raise ValueError(f"{name}: expected numbers (±inf allowed), got NaN at index {i}")
    return x


def check_ndim(x, ndim, name, layout):
    """Raise ``ValueError`` unless ``x.ndim == ndim``; ``layout`` names the expected axes."""
    if x.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array of shape {layout}, got shape {x.shape}")


def check_shape(x, shape, name):
    """Raise ``ValueError`` unless ``x.shape == shape`` exactly (no broadcasting)."""
    if x.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {x.shape}")


def check_same_dtype(x, dtype, name):
    """Raise ``TypeError`` unless ``x`` has the given dtype (no silent up-casting)."""
    if x.dtype != dtype:
        raise TypeError(f"{name}: expected dtype {np.dtype(dtype)}, got {x.dtype}")


def cached(value, module):
    """Return a forward cache, or raise if ``backward`` came before ``forward``."""
    if value is None:
        raise ValueError(f"{type(module).__name__}.backward() called before forward(): nothing is cached")
    return value


def check_count(n, name, minimum=1):
    """Raise ``ValueError`` unless ``n`` is an int (not a bool) of at least ``minimum``."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < minimum:
        wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {wanted}, got {n!r}")


def check_labels(labels, num_classes, name):
    """Return 1-D integer class labels in ``[0, num_classes - 1]``, or raise a named error."""
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{name}: expected a NumPy ndarray of integer class labels, got {type(labels).__name__}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name}: expected integer class labels (an int dtype), got dtype {labels.dtype}")
    check_ndim(labels, 1, name, "(N,)")
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{name}: expected class labels in [0, {num_classes - 1}] for {num_classes} classes, "
            f"got {labels[i]} at index {i}"
        )
    return labels
