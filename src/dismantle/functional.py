r"""Pure math: the activations, their derivatives, softmax and its Jacobian, one-hot labels.

Every function takes a float32/float64 ndarray and returns a new array of the same dtype
(a 0-D array for a 0-D input, never a NumPy scalar). The exponentials are written so that
nothing overflows, even for logits of $\pm 10^4$, and they stay quiet with every NumPy
floating-point error turned into an exception: a probability too small for float64 becomes 0
(or a subnormal number) exactly as it does in torch, without an underflow error. Infinite logits give torch's values without a warning: a row
that is all `-inf` has softmax and log-softmax NaN (there is no distribution to normalise),
a `-inf` entry next to finite ones gets probability 0.
"""

import numpy as np

from ._checks import as_float_array, check_count, check_labels


def _ieee():
    """Quiet IEEE arithmetic, as in torch: z - max(z) may overflow to -inf (-1e308 - 1e308) or be
    NaN (all -inf), and e^z for z < -708 underflows into subnormals or 0."""
    return np.errstate(over="ignore", invalid="ignore", under="ignore")


def _exp_nonpositive(x):
    r"""$e^{x}$ for $x \le 0$, quietly: below $e^{-708}$ the result is subnormal, then 0, as in torch.

    An earlier version set everything below $10^{-277}$ to 0 to keep `np.errstate(all="raise")`
    quiet; torch keeps those probabilities (`softmax([0, -700])[1]` is $9.9\times10^{-305}$), so
    we keep them too and silence the underflow instead. NaN stays NaN.
    """
    with _ieee():
        return np.exp(x)


def _logits(z, name):
    z = as_float_array(z, name)
    if z.ndim == 0:
        raise ValueError(f"{name}: expected at least 1-D logits of shape (..., K), got a 0-D array")
    return z


def relu(z):
    r"""Rectified linear unit $\mathrm{ReLU}(z) = \max(0, z)$, element-wise.

    Args:
        z: float ndarray of any shape.

    Returns:
        An array shaped like `z`.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import relu
        >>> relu(np.array([-0.2, 0.0, 0.6]))
        array([0. , 0. , 0.6])
    """
    z = as_float_array(z, "relu input")
    return np.asarray(np.where(z < 0, 0, z))  # keeps -0.0 as torch does; asarray: never a NumPy scalar


def relu_prime(z):
    r"""Derivative of ReLU, $\mathrm{ReLU}'(z) = 1$ if $z > 0$ else $0$; at $z = 0$ it is 0, as torch's autograd gives.

    Args:
        z: float ndarray of any shape (the pre-activation).

    Returns:
        An array of 0s and 1s shaped like `z`, in `z`'s dtype.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import relu_prime
        >>> relu_prime(np.array([-0.2, 0.0, 0.6]))
        array([0., 0., 1.])
    """
    z = as_float_array(z, "relu_prime input")
    return np.asarray((z > 0).astype(z.dtype))


def sigmoid(z):
    r"""Logistic sigmoid $\sigma(z) = \dfrac{1}{1 + e^{-z}}$, element-wise, in its stable two-branch form.

    For $z \ge 0$ it computes $\frac{1}{1 + e^{-z}}$ and for $z < 0$ the equal
    $\frac{e^{z}}{1 + e^{z}}$, so the exponent is always $-|z| \le 0$ and never overflows.

    Args:
        z: float ndarray of any shape.

    Returns:
        An array of values in $[0, 1]$ shaped like `z`.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import sigmoid
        >>> sigmoid(np.array([2.0, -3.0])).round(4)
        array([0.8808, 0.0474])
    """
    z = as_float_array(z, "sigmoid input")
    e = _exp_nonpositive(-np.abs(z))
    with _ieee():  # a subnormal e / (1 + e) underflows, quietly
        return np.asarray(np.where(z >= 0, 1, e) / (1 + e))


def sigmoid_prime(z):
    r"""Derivative of the sigmoid, $\sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr)$.

    Args:
        z: float ndarray of any shape (the pre-activation).

    Returns:
        An array of values in $[0, \tfrac14]$ shaped like `z`.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import sigmoid_prime
        >>> sigmoid_prime(np.array([2.0, -3.0])).round(4)
        array([0.105 , 0.0452])
    """
    s = sigmoid(z)
    with _ieee():
        return np.asarray(s * (1 - s))


def tanh(z):
    r"""Hyperbolic tangent $\tanh(z) = \dfrac{e^{z} - e^{-z}}{e^{z} + e^{-z}} = 2\sigma(2z) - 1$, element-wise.

    Args:
        z: float ndarray of any shape.

    Returns:
        An array of values in $[-1, 1]$ shaped like `z`.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import tanh
        >>> tanh(np.array([0.0, 1.0])).round(4)
        array([0.    , 0.7616])
    """
    z = as_float_array(z, "tanh input")
    return np.asarray(np.tanh(z))


def tanh_prime(z):
    r"""Derivative of tanh, $\tanh'(z) = 1 - \tanh^2(z)$.

    Args:
        z: float ndarray of any shape (the pre-activation).

    Returns:
        An array of values in $[0, 1]$ shaped like `z`.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import tanh_prime
        >>> tanh_prime(np.array([0.0, 1.0])).round(4)
        array([1.  , 0.42])
    """
    t = tanh(z)
    return np.asarray(1 - t * t)


def softmax(z):
    r"""Softmax over the last axis, $\mathrm{softmax}(z)_i = \dfrac{e^{z_i}}{\sum_j e^{z_j}}$.

    Computed as $e^{z_i - m} / \sum_j e^{z_j - m}$ with $m = \max_j z_j$: the factor
    $e^{-m}$ cancels, the largest exponent becomes $e^0 = 1$, and nothing overflows.

    Shape:
        - Input: `(..., K)`, the logits.
        - Output: `(..., K)`, each row non-negative and summing to 1.

    Args:
        z: float ndarray with at least one axis.

    Returns:
        The probabilities, shaped like `z`.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import softmax
        >>> softmax(np.array([2.0, 3.0, 1.0])).round(4)
        array([0.2447, 0.6652, 0.09  ])
    """
    z = _logits(z, "softmax input")
    if z.shape[-1] == 0:  # no classes: an empty result, as torch (there is no maximum to take)
        return np.zeros_like(z)
    with _ieee():
        e = _exp_nonpositive(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z):
    r"""Log-softmax over the last axis, $\log \mathrm{softmax}(z)_i = z_i - \log \sum_j e^{z_j}$.

    The log-sum-exp is taken after subtracting $m = \max_j z_j$:
    $\log \sum_j e^{z_j} = m + \log \sum_j e^{z_j - m}$, a sum that is at least 1,
    so the log never sees 0 even when a probability underflows.

    Shape:
        - Input: `(..., K)`, the logits.
        - Output: `(..., K)`.

    Args:
        z: float ndarray with at least one axis.

    Returns:
        The log-probabilities, shaped like `z`.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import log_softmax
        >>> log_softmax(np.array([1e4, -1e4, 0.0]))
        array([     0., -20000., -10000.])
    """
    z = _logits(z, "log_softmax input")
    if z.shape[-1] == 0:
        return np.zeros_like(z)
    with _ieee():
        shifted = z - z.max(axis=-1, keepdims=True)
        return shifted - np.log(_exp_nonpositive(shifted).sum(axis=-1, keepdims=True))


def softmax_jacobian(z):
    r"""Jacobian of softmax, $J_{ij} = \dfrac{\partial s_i}{\partial z_j} = s_i(\delta_{ij} - s_j)$, i.e. $J = \mathrm{diag}(s) - s s^\top$.

    The diagonal is $s_i(1 - s_i)$ and the off-diagonal entries are $-s_i s_j$.
    A batch gives one $K \times K$ matrix per row, whatever the batch size.

    Shape:
        - Input: `(K,)` or `(N, K)`, the logits.
        - Output: `(K, K)` or `(N, K, K)`.

    Args:
        z: 1-D or 2-D float ndarray of logits.

    Returns:
        The Jacobian(s), symmetric, each row summing to 0.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import softmax_jacobian
        >>> softmax_jacobian(np.array([4.0, 2.0])).round(4)
        array([[ 0.105, -0.105],
               [-0.105,  0.105]])
    """
    z = _logits(z, "softmax_jacobian input")
    if z.ndim > 2:
        raise ValueError(f"softmax_jacobian input: expected shape (K,) or (N, K), got shape {z.shape}")
    s = softmax(z)
    with _ieee():  # s_i s_j of two tiny probabilities underflows, quietly
        diag = s[..., :, None] * np.eye(s.shape[-1], dtype=s.dtype)
        return diag - s[..., :, None] * s[..., None, :]


def one_hot(labels, num_classes):
    r"""One-hot rows: $Y_{nk} = 1$ if $k = y_n$ else $0$, like `torch.nn.functional.one_hot`.

    Shape:
        - Input: `(N,)` integer labels in $[0, K-1]$.
        - Output: `(N, K)`, float64.

    Args:
        labels: 1-D integer ndarray of class indices.
        num_classes: $K$.

    Returns:
        A float64 array with a single 1 in each row.

    Examples:
        >>> import numpy as np
        >>> from dismantle.functional import one_hot
        >>> one_hot(np.array([2, 0]), 3)
        array([[0., 0., 1.],
               [1., 0., 0.]])
    """
    check_count(num_classes, "one_hot: num_classes")
    labels = check_labels(labels, num_classes, "one_hot labels")
    out = np.zeros((labels.shape[0], num_classes))
    out[np.arange(labels.shape[0]), labels] = 1
    return out



from .attention import (  # noqa: E402, F401  (the math lives with MultiheadAttention)
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)
from .conv import conv2d  # noqa: E402, F401  (the math lives with the Conv2d layer)
from .dropout import dropout, dropout_backward  # noqa: E402, F401  (the math lives with the Dropout layer)
from .normalization import layer_norm  # noqa: E402, F401  (the math lives with the LayerNorm layer)
from .pooling import avg_pool2d, max_pool2d  # noqa: E402, F401
