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


RELEASED = object()  # what a module's cache holds after its backward: one backward per forward


def cached(value, module):
    """Return a forward cache, or raise if ``backward`` came before ``forward`` or came twice."""
    if value is None:
        raise ValueError(f"{type(module).__name__}.backward() called before forward(): nothing is cached")
    if value is RELEASED:
        raise ValueError(
            f"{type(module).__name__}.backward() called twice after one forward(): the first backward "
            "released the cache (as torch frees its graph); run forward() again before the next backward()"
        )
    return value


def frozen(x):
    """``x`` made read-only, so that a cache shared with the caller cannot be changed in place."""
    x.flags.writeable = False
    return x


def check_count(n, name, minimum=1):
    """Raise ``TypeError`` unless ``n`` is an int (not a bool), ``ValueError`` unless it is ``>= minimum``."""
    wanted = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"{name} must be {wanted}, got {type(n).__name__} {n!r}")
    if n < minimum:
        raise ValueError(f"{name} must be {wanted}, got {n!r}")


def as_rng(rng, name):
    """A ``numpy.random.Generator`` from ``None`` (fresh, unseeded), an int seed or a Generator."""
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise TypeError(f"{name}: rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


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


def float_dtype(dtype, name):
    """``np.dtype(dtype)`` if it is float32 or float64, else a ``TypeError`` naming ``name``."""
    try:
        wanted = np.dtype(dtype)
    except TypeError:  # a name NumPy does not know: say which argument it was
        raise TypeError(f"{name}: dtype must be float32 or float64, got {dtype!r}") from None
    if wanted not in FLOATS:
        raise TypeError(f"{name}: dtype must be float32 or float64, got {wanted}")
    return wanted
