r"""Data that ships with the code: handwritten digits, two spirals, and seeded mini-batches.

The training loop that consumes them, `fit` and `evaluate`, is in `dismantle.training`.
"""

import math
from numbers import Real

import numpy as np

from ._checks import as_rng, check_count, float_dtype


def load_digits(test_size=0.2, seed=0, dtype=np.float64):
    r"""Handwritten digits (8×8 pixels, 10 classes), scaled to $[0, 1]$ and split with a fixed seed.

    The 1,797 images come bundled with scikit-learn (`sklearn.datasets.load_digits`), so nothing
    is downloaded. Each pixel is an ink count from 0 to 16; dividing by 16 puts every feature
    in $[0, 1]$ using a bound known *before* looking at the data (so no statistic leaks from the
    test set), keeps blank pixels exactly 0 and keeps the rows drawable as images. Standardising
    per pixel would divide by zero: some border pixels are blank in every image.

    Args:
        test_size: the fraction of images held out for testing, a real number in $(0, 1)$.
        seed: an int >= 0 that seeds the shuffle deciding which images are held out.
        dtype: `np.float64` (default) or `np.float32` for the pixels.

    Returns:
        `(x_train, x_test, y_train, y_test)`: pixels of shape `(N, 64)` in $[0, 1]$ and
        integer labels `0..9` of shape `(N,)`, in the order scikit-learn's `train_test_split` uses.

    Raises:
        ImportError: when scikit-learn is not installed (it is the `data` extra).
        TypeError: when `test_size` is not a real number, `seed` not an int or `dtype` not a float.
        ValueError: when `test_size` would leave the training or the test part empty.

    Examples:
        >>> from dismantle import load_digits
        >>> x_train, x_test, y_train, y_test = load_digits()
        >>> x_train.shape, x_test.shape
        ((1438, 64), (359, 64))
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:
        raise ImportError("load_digits needs scikit-learn: pip install 'dismantle[data]'") from error
    if not isinstance(test_size, Real) or isinstance(test_size, bool):
        raise TypeError(f"load_digits: test_size must be a real number in (0, 1), got {type(test_size).__name__}")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"load_digits: test_size must be in (0, 1), got {test_size!r}")
    check_count(seed, "load_digits: seed", minimum=0)
    dtype = float_dtype(dtype, "load_digits")
    digits = sklearn_digits()
    x = (digits.data / 16.0).astype(dtype)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_size * len(y)))
    if not 0 < n_test < len(y):
        raise ValueError(f"load_digits: test_size={test_size} leaves {n_test} of {len(y)} images for testing; "
                         "expected at least one image in each part")
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], y[train], y[test]


def make_spirals(n_per_class=100, classes=2, noise=0.1, rng=None, dtype=np.float64):
    r"""Interleaved spiral arms in the plane: point $k$ of arm $c$ sits at $r(\cos\varphi, \sin\varphi)$.

    With $t = k/(n-1) \in [0, 1]$, the radius is $r = t$ and the angle is
    $\varphi = 2\pi (t + c/C)$ plus Gaussian noise of standard deviation `noise` (in radians):
    each arm makes one full turn, the $C$ arms wind around each other, and no straight line
    separates them.

    Args:
        n_per_class: points per arm.
        classes: the number of arms $C$ (one class each).
        noise: the angle noise, a finite number $\ge 0$.
        rng: a `numpy.random.Generator` or an int seed; `None` makes a fresh, unseeded one.
        dtype: the float dtype of the points, `np.float64` (default) or `np.float32`.

    Returns:
        `(x, y)`: points of shape `(classes * n_per_class, 2)` and integer labels of shape
        `(classes * n_per_class,)`.

    Examples:
        >>> import numpy as np
        >>> from dismantle import make_spirals
        >>> x, y = make_spirals(50, rng=np.random.default_rng(0))
        >>> x.shape, np.bincount(y).tolist()
        ((100, 2), [50, 50])
    """
    check_count(n_per_class, "make_spirals: n_per_class", minimum=2)
    check_count(classes, "make_spirals: classes", minimum=2)
    if not isinstance(noise, Real) or isinstance(noise, bool):
        raise TypeError(f"make_spirals: noise must be a real number, got {type(noise).__name__}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"make_spirals: noise must be a finite number >= 0, got {noise!r}")
    dtype = float_dtype(dtype, "make_spirals")
    rng = as_rng(rng, "make_spirals")
    t = np.tile(np.linspace(0.0, 1.0, n_per_class), classes)
    y = np.repeat(np.arange(classes, dtype=np.int64), n_per_class)
    angle = 2.0 * np.pi * (t + y / classes) + rng.normal(0.0, noise, t.shape)
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    return x.astype(dtype), y


def batches(x, y, batch_size, rng=None):
    r"""Yield mini-batches `(x[idx], y[idx])` that cover the data once, shuffled by `rng`.

    Each epoch draws one permutation of the $N$ rows and cuts it into $\lceil N/B \rceil$
    consecutive slices of `batch_size` $B$; the last batch is smaller when $B$ does not
    divide $N$ (torch's `DataLoader` with `drop_last=False`). The same seed gives the
    same batches, which is how a torch run can be fed exactly what ours saw.

    Args:
        x: inputs, an array whose first axis has length $N$.
        y: targets, an array whose first axis also has length $N$.
        batch_size: a positive int $B$.
        rng: a `numpy.random.Generator` to shuffle with; `None` keeps the original order.

    Returns:
        An iterator of `(x_batch, y_batch)` pairs (copies, so changing one leaves the data
        alone). The permutation is drawn when `batches` is called.

    Examples:
        >>> import numpy as np
        >>> from dismantle import batches
        >>> x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
        >>> [yb.tolist() for _, yb in batches(x, y, 2, np.random.default_rng(0))]
        [[2, 4], [3, 0], [1]]
    """
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        raise TypeError(f"batches: expected NumPy arrays, got {type(x).__name__} and {type(y).__name__}")
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(f"batches: x and y need the same number of rows, got shapes {x.shape} and {y.shape}")
    check_count(batch_size, "batches: batch_size")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"batches: rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    order = np.arange(len(x)) if rng is None else rng.permutation(len(x))
    return _slices(x, y, order, batch_size)


def _slices(x, y, order, batch_size):
    """The generator behind `batches`, so that bad arguments raise at the call, not at the first `next`."""
    for start in range(0, len(x), batch_size):
        idx = order[start : start + batch_size]
        yield x[idx], y[idx]

