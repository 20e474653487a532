r"""Where the first weights come from: `torch.nn.init`'s initializers, rebuilt in NumPy.

Every initializer fills a `Parameter` (its `data`) or a float ndarray *in place* and returns
it, like torch's trailing-underscore functions, drawing from the `numpy.random.Generator`
passed as `rng` (`None` makes a fresh, unseeded one, as `Linear` does). The bounds and
standard deviations are computed with the same floating-point operations, in the same
order, as `torch.nn.init`, so they agree with torch's to the last bit.

For a weight of shape `(out_features, in_features, *kernel)`, the *fans* are
$\text{fan\_in} = \text{in\_features} \cdot k$ and $\text{fan\_out} = \text{out\_features}
\cdot k$, with $k$ the product of the kernel sizes ($k = 1$ for `Linear`). A sum of
$\text{fan\_in}$ independent zero-mean products $w_i x_i$ has variance
$\text{Var}(z) = \text{fan\_in}\,\text{Var}(w)\,\text{Var}(x)$, which is what every scheme
below keeps equal to $\text{Var}(x)$ (times the square of a *gain* for the non-linearity).

Nothing is lost on a refused call: every argument is checked before the first byte is written,
including that the fill fits the weight's dtype (`1e300` in a float32 weight is an error, as in
torch, not a weight of `inf`).
"""

import math
from numbers import Real

import numpy as np

from .module import Parameter

LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
NONLINEARITIES = (*LINEAR_FNS, "sigmoid", "tanh", "relu", "leaky_relu", "selu")
MODES = ("fan_in", "fan_out")


def calculate_gain(nonlinearity, param=None):
    r"""The gain $g$ that keeps the variance through `nonlinearity`, as in `torch.nn.init`.

    | nonlinearity | gain $g$ |
    | --- | --- |
    | `linear`, `conv*d`, `conv_transpose*d`, `sigmoid` | $1$ |
    | `tanh` | $5/3$ |
    | `relu` | $\sqrt{2}$ |
    | `leaky_relu` with negative slope $\alpha$ (`param`, default $0.01$) | $\sqrt{2/(1 + \alpha^2)}$ |
    | `selu` | $3/4$ |

    ReLU keeps half of a symmetric input's second moment, $E[\mathrm{relu}(z)^2] =
    \tfrac12\text{Var}(z)$, and the gain $\sqrt2$ gives that half back. Tanh's $5/3$ and SELU's
    $3/4$ are torch's empirical choices.

    Args:
        nonlinearity: the name of the function that follows the layer (`torch.nn.functional`'s name).
        param: the negative slope for `leaky_relu`; ignored otherwise.

    Returns:
        The gain, a float.

    Raises:
        ValueError: for an unknown name, or a slope that is not a finite real number.

    Examples:
        >>> from dismantle.init import calculate_gain
        >>> calculate_gain("relu") ** 2
        2.0000000000000004
        >>> round(calculate_gain("leaky_relu", 0.2), 4)
        1.3868
    """
    if nonlinearity in LINEAR_FNS or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool) and math.isfinite(param):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope for leaky_relu must be a finite number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of {list(NONLINEARITIES)}")


def _calculate_fan_in_and_fan_out(tensor):
    r"""Return `(fan_in, fan_out)` of a weight of shape `(out, in, *kernel)`: `in`·k and `out`·k.

    $k$ is the product of the trailing (kernel) sizes, 1 for a 2-D weight. Raises `ValueError`
    for fewer than two dimensions, as torch does: a bias has no fan.
    """
    shape = _array(tensor, "_calculate_fan_in_and_fan_out").shape
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for an array with fewer than 2 dimensions, got shape {shape}"
        )
    receptive_field_size = math.prod(shape[2:])
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def uniform_(tensor, a=0.0, b=1.0, *, rng=None):
    r"""Fill `tensor` in place with draws from $\mathcal{U}(a, b)$; return it.

    Examples:
        >>> import numpy as np
        >>> from dismantle.init import uniform_
        >>> w = uniform_(np.empty((2, 3)), -1.0, 1.0, rng=np.random.default_rng(0))
        >>> bool(np.all((w >= -1) & (w < 1)))
        True
    """
    data = _array(tensor, "uniform_")
    _in_range(data, "uniform_", a=a, b=b)
    if not a <= b:
        raise ValueError(f"uniform_: expected finite bounds with a <= b, got a={a!r}, b={b!r}")
    if not math.isfinite(b - a):  # numpy draws a + (b - a) u
        raise ValueError(f"uniform_: expected b - a to be finite, got a={a!r}, b={b!r}")
    data[...] = _rng(rng, "uniform_").uniform(a, b, data.shape)
    return tensor


def normal_(tensor, mean=0.0, std=1.0, *, rng=None):
    r"""Fill `tensor` in place with draws from $\mathcal{N}(\text{mean}, \text{std}^2)$; return it.

    Examples:
        >>> import numpy as np
        >>> from dismantle.init import normal_
        >>> w = normal_(np.empty((500, 500)), std=0.1, rng=np.random.default_rng(0))
        >>> round(float(w.std()), 2)
        0.1
    """
    data = _array(tensor, "normal_")
    _in_range(data, "normal_", mean=mean, std=std)
    if not std >= 0:
        raise ValueError(f"normal_: expected a finite mean and a finite std >= 0, got mean={mean!r}, std={std!r}")
    data[...] = _rng(rng, "normal_").normal(mean, std, data.shape)
    return tensor


def constant_(tensor, val):
    r"""Fill `tensor` in place with the value `val`; return it.

    `val` is a real number (or a 0-d array) that fits the dtype: $\pm\infty$ is allowed, NaN
    and a finite value too large for float32 (such as `1e300`) are refused, as torch refuses it.

    Examples:
        >>> import numpy as np
        >>> from dismantle.init import constant_
        >>> constant_(np.empty(3), 0.5)
        array([0.5, 0.5, 0.5])
    """
    data = _array(tensor, "constant_")
    if isinstance(val, np.ndarray) and val.ndim == 0 and val.dtype.kind in "biuf":
        val = val.item()
    if not isinstance(val, Real):
        shape = f" of shape {val.shape}" if isinstance(val, np.ndarray) else ""
        raise TypeError(f"constant_: val must be a real number (a 0-d value), got {type(val).__name__}{shape}")
    _in_range(data, "constant_", allow_inf=True, val=val)
    data[...] = val
    return tensor


def zeros_(tensor):
    r"""Fill `tensor` in place with zeros; return it. (Never for every weight: see the chapter.)

    Examples:
        >>> import numpy as np
        >>> from dismantle.init import zeros_
        >>> zeros_(np.ones(2))
        array([0., 0.])
    """
    return constant_(tensor, 0.0)


def xavier_uniform_(tensor, gain=1.0, *, rng=None):
    r"""Glorot/Xavier: fill with $\mathcal{U}(-a, a)$, $a = g\sqrt{6/(\text{fan\_in} + \text{fan\_out})}$.

    The compromise $\text{Var}(w) = 2/(\text{fan\_in} + \text{fan\_out})$ between keeping the
    forward variance ($1/\text{fan\_in}$) and the backward one ($1/\text{fan\_out}$), scaled
    by $g^2$; a uniform $\mathcal{U}(-a, a)$ has variance $a^2/3$, so
    $a = \sqrt3\,\text{std}$ with $\text{std} = g\sqrt{2/(\text{fan\_in} + \text{fan\_out})}$.

    Args:
        tensor: a `Parameter` or float ndarray with at least 2 dimensions, filled in place.
        gain: the factor $g$, for example `calculate_gain("tanh")`.
        rng: a `numpy.random.Generator`; `None` makes a fresh, unseeded one.

    Examples:
        >>> import numpy as np
        >>> from dismantle.init import xavier_uniform_
        >>> w = xavier_uniform_(np.empty((300, 500)), rng=np.random.default_rng(0))
        >>> bool(np.abs(w).max() <= np.sqrt(6 / 800))
        True
    """
    fan_in, fan_out = _fans(tensor, "xavier_uniform_", both=True)
    std = _gain(gain, "xavier_uniform_") * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std  # the bound of the uniform with that standard deviation
    return uniform_(tensor, -a, a, rng=rng)


def xavier_normal_(tensor, gain=1.0, *, rng=None):
    r"""Glorot/Xavier: fill with $\mathcal{N}(0, \text{std}^2)$, $\text{std} = g\sqrt{2/(\text{fan\_in} + \text{fan\_out})}$.

    Args:
        tensor: a `Parameter` or float ndarray with at least 2 dimensions, filled in place.
        gain: the factor $g$.
        rng: a `numpy.random.Generator`; `None` makes a fresh, unseeded one.

    Examples:
        >>> import numpy as np
        >>> from dismantle.init import xavier_normal_
        >>> w = xavier_normal_(np.empty((300, 500)), rng=np.random.default_rng(0))
        >>> round(float(w.std() / np.sqrt(2 / 800)), 2)
        1.0
    """
    fan_in, fan_out = _fans(tensor, "xavier_normal_", both=True)
    std = _gain(gain, "xavier_normal_") * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, rng=rng)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None):
    r"""He/Kaiming: fill with $\mathcal{U}(-b, b)$, $b = g\sqrt{3/\text{fan}}$ for the chosen fan.

    $\text{Var}(w) = g^2/\text{fan}$: with $g = \sqrt2$ for ReLU that is $2/\text{fan\_in}$,
    which gives back the half of the variance ReLU drops. `mode="fan_out"` keeps the
    gradients' variance on the way back instead. The default `nonlinearity="leaky_relu"` with
    `a=0` is ReLU's gain; `a=math.sqrt(5)` gives $b = 1/\sqrt{\text{fan\_in}}$, the
    distribution of `torch.nn.Linear` (and `dismantle.Linear`).

    Args:
        tensor: a `Parameter` or float ndarray with at least 2 dimensions, filled in place.
        a: the negative slope of the leaky ReLU after this layer (used with `"leaky_relu"` only).
        mode: `"fan_in"` (keep the forward variance) or `"fan_out"` (keep the backward one).
        nonlinearity: the function after this layer, a name `calculate_gain` knows.
        rng: a `numpy.random.Generator`; `None` makes a fresh, unseeded one.

    Raises:
        ValueError: for an unknown mode or nonlinearity, or a fan of 0 (torch warns and leaves
            an empty tensor alone; an empty layer is almost always a bug).

    Examples:
        >>> import numpy as np
        >>> from dismantle.init import kaiming_uniform_
        >>> w = kaiming_uniform_(np.empty((64, 256)), a=np.sqrt(5), rng=np.random.default_rng(0))
        >>> bool(np.abs(w).max() <= 1 / 16)
        True
    """
    fan = _fans(tensor, "kaiming_uniform_", mode=mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std  # the bound of the uniform with that standard deviation
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None):
    r"""He/Kaiming: fill with $\mathcal{N}(0, \text{std}^2)$, $\text{std} = g/\sqrt{\text{fan}}$ for the chosen fan.

    Args:
        tensor: a `Parameter` or float ndarray with at least 2 dimensions, filled in place.
        a: the negative slope of the leaky ReLU after this layer (used with `"leaky_relu"` only).
        mode: `"fan_in"` (keep the forward variance) or `"fan_out"` (keep the backward one).
        nonlinearity: the function after this layer, a name `calculate_gain` knows.
        rng: a `numpy.random.Generator`; `None` makes a fresh, unseeded one.

    Examples:
        >>> import numpy as np
        >>> from dismantle.init import kaiming_normal_
        >>> w = kaiming_normal_(np.empty((256, 512)), nonlinearity="relu", rng=np.random.default_rng(0))
        >>> round(float(w.var() * 512), 1)
        2.0
    """
    fan = _fans(tensor, "kaiming_normal_", mode=mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, rng=rng)


def _array(tensor, name):
    """The float ndarray behind a `Parameter` or ndarray, written in place by the callers."""
    data = tensor.data if isinstance(tensor, Parameter) else tensor
    if not isinstance(data, np.ndarray):
        raise TypeError(f"{name}: expected a Parameter or a NumPy ndarray, got {type(tensor).__name__}")
    if data.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected dtype float32 or float64, got {data.dtype}")
    if not data.flags.writeable:
        raise ValueError(f"{name}: expected a writeable array, got a read-only one")
    return data


def _in_range(data, name, allow_inf=False, **values):
    """Refuse a value that is not a real number, NaN, or beyond what `data`'s dtype holds."""
    largest = float(np.finfo(data.dtype).max)  # a Python float: compared exactly with any int
    for key, value in values.items():
        if isinstance(value, bool) and key != "val" or not isinstance(value, Real):
            raise TypeError(f"{name}: {key} must be a real number, got {type(value).__name__}")
        value = value.item() if isinstance(value, np.generic) else value  # compare as Python numbers
        big = abs(value) > largest  # exact for a Python int beyond float64 too
        if value != value:  # NaN
            raise ValueError(f"{name}: {key} must be a number, got {value!r}")
        infinite = value in (math.inf, -math.inf)  # no float() of an int beyond float64
        if infinite and not allow_inf:
            raise ValueError(f"{name}: {key} must be a finite number, got {value!r}")
        if big and not infinite:
            what = "overflows" if name == "constant_" else "is out of bounds for"
            raise ValueError(f"{name}: {key}={value!r} {what} {data.dtype} (largest {largest})")


def _rng(rng, name):
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name}: rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng


def _gain(gain, name):
    if isinstance(gain, bool) or not isinstance(gain, (int, float, np.floating, np.integer)) or not math.isfinite(gain):
        raise ValueError(f"{name}: gain must be a finite number, got {gain!r}")
    return gain


def _fans(tensor, name, mode=None, both=False):
    """`(fan_in, fan_out)` (`both`) or the fan `mode` names, refusing a fan of 0."""
    _array(tensor, name)
    if mode is not None and (not isinstance(mode, str) or mode.lower() not in MODES):
        raise ValueError(f"{name}: mode must be one of {list(MODES)}, got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    fans = (fan_in, fan_out) if both else (fan_in if mode.lower() == "fan_in" else fan_out,)
    if 0 in fans:
        shape = _array(tensor, name).shape
        raise ValueError(f"{name}: expected a weight with fan_in and fan_out >= 1, got shape {shape}")
    return fans if both else fans[0]
