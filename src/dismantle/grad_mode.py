r"""`no_grad()`: a context in which forward passes save nothing for backward, as `torch.no_grad()`.

Scoring a model (`evaluate`, a validation pass, predictions for a plot) needs no gradient, so
nothing needs remembering for a backward pass: inside `with dm.no_grad():` every module's
`forward` computes its output and saves nothing. Modes nest and are restored on exit, even
when the block raises.
"""

import contextlib

_enabled = [True]  # a list, so that the context manager can change it in place


def is_grad_enabled():
    """`True` unless inside a `no_grad()` block, like `torch.is_grad_enabled()`."""
    return _enabled[0]


@contextlib.contextmanager
def no_grad():
    """Turn saving for backward off for the `with` block; restore the previous mode after it.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> layer = dm.Linear(3, 2, rng=0)
        >>> with dm.no_grad():
        ...     z = layer(np.ones((4, 3)))  # computed, and nothing saved for a backward
        >>> layer.backward(np.ones((4, 2)))
        Traceback (most recent call last):
        ValueError: Linear.backward() called before forward(): nothing is cached
    """
    previous, _enabled[0] = _enabled[0], False
    try:
        yield
    finally:
        _enabled[0] = previous
