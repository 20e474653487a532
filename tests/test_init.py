"""dismantle.init against torch.nn.init: exact formulas, statistics of large draws, bad input.

torch and NumPy draw from different random streams, so samples are never compared one by one.
Instead the *parameters* of each draw (the bounds of a uniform, the standard deviation of a
normal) are recorded on both sides and compared with `==`, and the statistics of a million
draws are compared with a tolerance stated next to them.
"""

import doctest
import math
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from dismantle import init

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


class Recording(np.random.Generator):
    """A real NumPy generator that also notes the parameters of every draw."""

    def __init__(self, seed=0):
        super().__init__(np.random.PCG64(seed))
        self.calls = []

    def uniform(self, low, high, size):
        self.calls.append(("uniform", low, high))
        return super().uniform(low, high, size)

    def normal(self, loc, scale, size):
        self.calls.append(("normal", loc, scale))
        return super().normal(loc, scale, size)


@contextmanager
def torch_draws():
    """Record the parameters torch.nn.init passes to `Tensor.uniform_` / `Tensor.normal_`."""
    calls = []
    real_uniform, real_normal = torch.Tensor.uniform_, torch.Tensor.normal_

    def uniform(self, a=0.0, b=1.0, *, generator=None):
        calls.append(("uniform", a, b))
        return real_uniform(self, a, b, generator=generator)

    def normal(self, mean=0.0, std=1.0, *, generator=None):
        calls.append(("normal", mean, std))
        return real_normal(self, mean, std, generator=generator)

    with mock.patch.object(torch.Tensor, "uniform_", uniform), mock.patch.object(torch.Tensor, "normal_", normal):
        yield calls


def our_draws(name, shape, **kwargs):
    """The distribution parameters our `name` draws with."""
    rng = Recording()
    getattr(init, name)(np.empty(shape), **kwargs, rng=rng)
    return rng.calls


def draw_parameters(name, shape, **kwargs):
    """(ours, torch's): the distribution parameters each side draws `name` with."""
    ours = our_draws(name, shape, **kwargs)
    with torch_draws() as calls:
        getattr(torch.nn.init, name)(torch.empty(shape, dtype=torch.float64), **kwargs)
    return ours, calls


# --- exact formulas -------------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_gain_is_torchs_exactly(nonlinearity):
    assert init.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize("slope", [None, 0, 0.01, 0.2, 1, math.sqrt(5), -0.3])
def test_leaky_relu_gain_is_torchs_exactly(slope):
    assert init.calculate_gain("leaky_relu", slope) == torch.nn.init.calculate_gain("leaky_relu", slope)


@pytest.mark.parametrize("shape", [(3, 5), (7, 2), (4, 3, 5), (6, 2, 3, 3), (1, 1), (2, 3, 1, 4, 5)])
def test_fans_are_torchs(shape):
    fans = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(np.empty(shape)) == fans
    assert init._calculate_fan_in_and_fan_out(dm.Parameter(np.zeros(shape))) == fans


CASES = [
    ("xavier_uniform_", (64, 256), {}),
    ("xavier_uniform_", (10, 784), {"gain": 5 / 3}),
    ("xavier_normal_", (256, 256), {}),
    ("xavier_normal_", (3, 7, 5), {"gain": 2.5}),
    ("kaiming_uniform_", (64, 256), {}),
    ("kaiming_uniform_", (64, 256), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (32, 100), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_uniform_", (32, 100), {"nonlinearity": "tanh"}),
    ("kaiming_uniform_", (8, 4, 3, 3), {"a": 0.2, "mode": "FAN_OUT"}),
    ("kaiming_normal_", (256, 256), {"nonlinearity": "relu"}),
    ("kaiming_normal_", (50, 20), {"mode": "fan_out", "nonlinearity": "leaky_relu", "a": 0.1}),
    ("kaiming_normal_", (50, 20), {"nonlinearity": "linear"}),
]


@pytest.mark.parametrize("name, shape, kwargs", CASES)
def test_bounds_and_stds_are_torchs_exactly(name, shape, kwargs):
    ours, theirs = draw_parameters(name, shape, **kwargs)
    assert len(ours) == len(theirs) == 1
    kind, p0, p1 = ours[0]
    assert (kind, float(p0), float(p1)) == (theirs[0][0], float(theirs[0][1]), float(theirs[0][2]))


@pytest.mark.parametrize("name, shape, kwargs", CASES)
def test_bounds_and_stds_follow_the_written_formula(name, shape, kwargs):
    """The formula of the docstring, written independently of both libraries (to 1e-15)."""
    fan_in, fan_out = shape[1] * math.prod(shape[2:]), shape[0] * math.prod(shape[2:])
    if name.startswith("xavier"):
        std = kwargs.get("gain", 1.0) * math.sqrt(2 / (fan_in + fan_out))
    else:
        fan = fan_in if kwargs.get("mode", "fan_in").lower() == "fan_in" else fan_out
        nl, a = kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0)
        gain = {"relu": math.sqrt(2), "tanh": 5 / 3, "linear": 1.0, "leaky_relu": math.sqrt(2 / (1 + a * a))}[nl]
        std = gain / math.sqrt(fan)
    (kind, p0, p1), = draw_parameters(name, shape, **kwargs)[0]
    if kind == "uniform":
        assert p0 == -p1 and p1 == pytest.approx(math.sqrt(3) * std, rel=1e-15)
    else:
        assert p0 == 0 and p1 == pytest.approx(std, rel=1e-15)


def test_torch_linear_default_is_kaiming_uniform_with_a_sqrt5():
    """nn.Linear's reset_parameters calls kaiming_uniform_(a=sqrt(5)): bound 1/sqrt(fan_in)."""
    with torch_draws() as calls:
        torch.nn.Linear(256, 64)
    (_, low, high), bias = calls
    (ours,) = draw_parameters("kaiming_uniform_", (64, 256), a=math.sqrt(5))[0]
    assert (low, high) == (ours[1], ours[2])
    assert high == pytest.approx(1 / 16, rel=1e-15) and bias[1:] == (-1 / 16, 1 / 16)


def test_dismantle_linear_draws_what_kaiming_uniform_a_sqrt5_draws():
    layer = dm.Linear(256, 64, rng=np.random.default_rng(7))
    w = init.kaiming_uniform_(np.empty((64, 256)), a=math.sqrt(5), rng=np.random.default_rng(7))
    np.testing.assert_allclose(w, layer.weight.data, rtol=1e-14, atol=1e-17)


# --- statistics of large draws ---------------------------------------------------------------

N_DRAWS = (1000, 1000)
# A million draws: the sample std of a normal has relative standard error 1/sqrt(2n) = 7e-4,
# of a uniform sqrt(0.8/4n) = 4.5e-4. 1% is over ten of those, and still catches a gain or a
# fan off by 2%.
STD_RTOL = 0.01


def assert_std_close(samples, std, what):
    """The statistical oracle: mean near 0 and sample std within STD_RTOL of `std`."""
    n = samples.size
    assert abs(samples.mean()) < 6 * std / math.sqrt(n), f"{what}: mean {samples.mean()} is not 0"
    assert samples.std() == pytest.approx(std, rel=STD_RTOL), f"{what}: std {samples.std()} != {std}"


STAT_CASES = [
    ("xavier_uniform_", {}, math.sqrt(2 / 2000)),
    ("xavier_normal_", {"gain": 5 / 3}, 5 / 3 * math.sqrt(2 / 2000)),
    ("kaiming_uniform_", {"nonlinearity": "relu"}, math.sqrt(2 / 1000)),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, 1 / math.sqrt(3 * 1000)),
    ("kaiming_normal_", {"nonlinearity": "relu", "mode": "fan_out"}, math.sqrt(2 / 1000)),
    ("kaiming_normal_", {"a": 0.3}, math.sqrt(2 / 1.09 / 1000)),
]


@pytest.mark.parametrize("name, kwargs, std", STAT_CASES)
def test_large_draws_have_the_formula_std_like_torchs(name, kwargs, std):
    ours = getattr(init, name)(np.empty(N_DRAWS), **kwargs, rng=np.random.default_rng(0))
    theirs = getattr(torch.nn.init, name)(torch.empty(N_DRAWS, dtype=torch.float64), **kwargs,
                                          generator=torch.Generator().manual_seed(0)).numpy()
    assert_std_close(ours, std, f"ours {name}")
    assert_std_close(theirs, std, f"torch {name}")
    assert ours.std() == pytest.approx(theirs.std(), rel=2 * STD_RTOL)
    if "uniform" in name:
        bound = math.sqrt(3) * std
        for side, samples in (("ours", ours), ("torch", theirs)):
            assert np.abs(samples).max() <= bound * (1 + 1e-15), side
            assert np.abs(samples).max() > bound * (1 - 1e-4), side  # the edges are reached


@pytest.mark.parametrize("wrong", [0.98, 1.02, 1.5])
def test_the_statistical_oracle_catches_a_wrong_std(wrong):
    """Plant the fault: a draw whose std is 2% off (a fan off by 4%) must fail the check."""
    samples = np.random.default_rng(1).normal(0, 0.05 * wrong, N_DRAWS)
    with pytest.raises(AssertionError, match="std"):
        assert_std_close(samples, 0.05, "planted")


def test_the_exact_check_catches_a_one_ulp_bound():
    """Plant the fault: a bound one ulp off torch's is not `==` torch's."""
    (ours,), (theirs,) = draw_parameters("kaiming_uniform_", (64, 256), a=math.sqrt(5))
    assert ours[2] == theirs[2] and np.nextafter(ours[2], 1) != theirs[2]


def test_in_place_on_parameter_and_ndarray_returns_the_same_object():
    p = dm.Parameter(np.zeros((4, 3)))
    data = p.data
    assert init.xavier_normal_(p, rng=np.random.default_rng(0)) is p and p.data is data and p.data.any()
    a32 = np.zeros((4, 3), dtype=np.float32)
    assert init.kaiming_uniform_(a32, rng=np.random.default_rng(0)) is a32 and a32.dtype == np.float32
    assert init.zeros_(p) is p and not p.data.any()
    assert init.constant_(a32, 0.25) is a32 and np.all(a32 == 0.25)


def test_same_seed_same_weights():
    a = init.kaiming_normal_(np.empty((5, 4)), rng=np.random.default_rng(3))
    b = init.kaiming_normal_(np.empty((5, 4)), rng=np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_docstring_examples_run():
    result = doctest.testmod(init, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --- properties ---------------------------------------------------------------------------------

fans = st.integers(1, 1000)  # up to a million weights a draw: the formulas, not the memory, are under test


@settings(max_examples=60, deadline=None)
@given(fan_in=fans, fan_out=fans, gain=st.floats(0.01, 10))
def test_xavier_uniform_bound_is_sqrt3_times_xavier_normal_std(fan_in, fan_out, gain):
    shape = (fan_out, fan_in)
    (_, _, bound), = our_draws("xavier_uniform_", shape, gain=gain)
    (_, _, std), = our_draws("xavier_normal_", shape, gain=gain)
    assert bound == pytest.approx(math.sqrt(3) * std, rel=1e-15)
    assert std**2 == pytest.approx(gain**2 * 2 / (fan_in + fan_out), rel=1e-13)


@settings(max_examples=60, deadline=None)
@given(fan_in=fans, fan_out=fans, slope=st.floats(-5, 5))
def test_kaiming_variance_is_gain_squared_over_fan(fan_in, fan_out, slope):
    for mode, fan in (("fan_in", fan_in), ("fan_out", fan_out)):
        (_, _, std), = our_draws("kaiming_normal_", (fan_out, fan_in), a=slope, mode=mode)
        assert std**2 * fan * (1 + slope**2) == pytest.approx(2.0, rel=1e-13)
        assert init.calculate_gain("leaky_relu", slope) == torch.nn.init.calculate_gain("leaky_relu", slope)


@settings(max_examples=60, deadline=None)
@given(fan_in=fans)
def test_a_sqrt5_gives_one_over_sqrt_fan_in(fan_in):
    (_, low, high), = our_draws("kaiming_uniform_", (3, fan_in), a=math.sqrt(5))
    assert low == -high and high == pytest.approx(1 / math.sqrt(fan_in), rel=1e-15)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=2, max_size=5), seed=st.integers(0, 2**32 - 1))
def test_fans_and_bounds_for_any_shape(shape, seed):
    shape = tuple(shape)
    assert init._calculate_fan_in_and_fan_out(np.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    w = init.xavier_uniform_(np.empty(shape), rng=np.random.default_rng(seed))
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(w)
    assert np.abs(w).max() <= math.sqrt(6 / (fan_in + fan_out)) * (1 + 1e-15)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: init.calculate_gain("swish"), ValueError, r"unsupported nonlinearity 'swish'; expected one of \["),
        (lambda: init.calculate_gain("leaky_relu", "0.1"), ValueError, r"negative_slope .* finite number, got '0.1'"),
        (lambda: init.calculate_gain("leaky_relu", True), ValueError, r"finite number, got True"),
        (lambda: init.calculate_gain("leaky_relu", math.nan), ValueError, r"finite number, got nan"),
        (lambda: init.kaiming_uniform_(np.empty(5)), ValueError, r"fewer than 2 dimensions, got shape \(5,\)"),
        (lambda: init._calculate_fan_in_and_fan_out(np.empty(())), ValueError, r"fewer than 2 dimensions"),
        (lambda: init.xavier_normal_(np.empty(3)), ValueError, r"fewer than 2 dimensions"),
        (lambda: init.kaiming_normal_(np.empty((4, 0))), ValueError, r"fan_in and fan_out >= 1, got shape \(4, 0\)"),
        (lambda: init.xavier_uniform_(np.empty((0, 0))), ValueError, r"fan_in and fan_out >= 1, got shape \(0, 0\)"),
        (lambda: init.kaiming_uniform_(np.empty((4, 3)), mode="fan_avg"), ValueError,
         r"mode must be one of \['fan_in', 'fan_out'\], got 'fan_avg'"),
        (lambda: init.kaiming_uniform_(np.empty((4, 3)), nonlinearity="gelu"), ValueError, "unsupported nonlinearity"),
        (lambda: init.xavier_uniform_(np.empty((4, 3)), gain=math.inf), ValueError, r"gain must be a finite number, got inf"),
        (lambda: init.xavier_normal_(np.empty((4, 3)), gain=math.nan), ValueError, r"gain must be a finite number"),
        (lambda: init.xavier_normal_(np.empty((4, 3)), gain="2"), ValueError, r"gain must be a finite number, got '2'"),
        (lambda: init.kaiming_normal_(np.empty((4, 3)), a=math.inf), ValueError, "finite number, got inf"),
        (lambda: init.xavier_uniform_([[0.0, 1.0]]), TypeError, r"expected a Parameter or a NumPy ndarray, got list"),
        (lambda: init.zeros_(np.zeros(3, dtype=int)), TypeError, r"expected dtype float32 or float64, got int64"),
        (lambda: init.normal_(np.empty(3), std=-1.0), ValueError, r"finite std >= 0, got mean=0.0, std=-1.0"),
        (lambda: init.uniform_(np.empty(3), 1.0, 0.0), ValueError, r"a <= b, got a=1.0, b=0.0"),
        (lambda: init.uniform_(np.empty(3), rng=0), TypeError, r"rng must be a numpy.random.Generator or None, got int"),
    ],
)
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda nn: nn.calculate_gain("swish"),
        lambda nn: nn.kaiming_uniform_(torch.empty(5)),
        lambda nn: nn.kaiming_uniform_(torch.empty(4, 3), mode="fan_avg"),
        lambda nn: nn.calculate_gain("leaky_relu", "0.1"),
    ],
)
def test_torch_refuses_the_same_input(call):
    """Where we raise ValueError, torch does too (its messages differ in wording)."""
    with pytest.raises(ValueError):
        call(torch.nn.init)


@pytest.mark.parametrize("kind", ["uniform_", "normal_"])
def test_replaying_torchs_seeded_draw_tells_a_one_ulp_difference(kind):
    """The page's exact check draws again from the same seed with the derived bound or std.
    Equal parameters give equal draws; plant a parameter one ulp off and the draws differ."""
    p = math.sqrt(3.0) * (init.calculate_gain("relu") / math.sqrt(256))
    args = {"uniform_": lambda q: (-q, q), "normal_": lambda q: (0.0, q)}[kind]

    def draw(q):
        return getattr(torch.empty(128, 256, dtype=torch.float64), kind)(
            *args(q), generator=torch.Generator().manual_seed(0))

    reference = torch.nn.init.kaiming_uniform_(torch.empty(128, 256, dtype=torch.float64), nonlinearity="relu",
                                               generator=torch.Generator().manual_seed(0))
    if kind == "uniform_":
        assert torch.equal(draw(p), reference)
    assert torch.equal(draw(p), draw(p))
    assert not torch.equal(draw(p), draw(float(np.nextafter(p, 1.0))))


# --- Nothing lost (issue 20): a refused call changes no byte of the weight ---------------------

F32_HUGE = 1e300  # finite in float64, beyond float32's largest 3.4e38

# (function, call on a float32 (3, 4) weight, error, message); every public initializer appears
REFUSED = [
    ("constant_", lambda w: init.constant_(w, F32_HUGE), ValueError, r"constant_: val=1e\+300 overflows float32"),
    ("constant_", lambda w: init.constant_(w, -(10**40)), ValueError, r"constant_: val=-10{40} overflows float32"),
    ("constant_", lambda w: init.constant_(w, np.array([1.0, 2.0, 3.0, 4.0])), TypeError,
     r"constant_: val must be a real number \(a 0-d value\), got ndarray of shape \(4,\)"),
    ("constant_", lambda w: init.constant_(w, None), TypeError, r"val must be a real number \(a 0-d value\), got NoneType"),
    ("constant_", lambda w: init.constant_(w, 1 + 2j), TypeError, r"val must be a real number \(a 0-d value\), got complex"),
    ("constant_", lambda w: init.constant_(w, [0.5]), TypeError, r"got list"),
    ("constant_", lambda w: init.constant_(w, math.nan), ValueError, r"constant_: val must be a number, got nan"),
    ("zeros_", lambda w: init.zeros_(w.astype(np.float16)), TypeError, "float32 or float64, got float16"),
    ("uniform_", lambda w: init.uniform_(w, 0.0, F32_HUGE), ValueError, r"uniform_: b=1e\+300 is out of bounds for float32"),
    ("uniform_", lambda w: init.uniform_(w, -F32_HUGE, 0.0), ValueError, r"uniform_: a=-1e\+300 is out of bounds"),
    ("uniform_", lambda w: init.uniform_(w, 1.0, 0.0), ValueError, r"a <= b, got a=1.0, b=0.0"),
    ("uniform_", lambda w: init.uniform_(w, "0", 1.0), TypeError, r"uniform_: a must be a real number, got str"),
    ("uniform_", lambda w: init.uniform_(w, rng=0), TypeError, "rng must be a numpy.random.Generator or None, got int"),
    ("normal_", lambda w: init.normal_(w, F32_HUGE, 1.0), ValueError, r"normal_: mean=1e\+300 is out of bounds for float32"),
    ("normal_", lambda w: init.normal_(w, 0.0, F32_HUGE), ValueError, r"normal_: std=1e\+300 is out of bounds for float32"),
    ("normal_", lambda w: init.normal_(w, 0.0, -1.0), ValueError, "finite std >= 0"),
    ("normal_", lambda w: init.normal_(w, None), TypeError, r"normal_: mean must be a real number, got NoneType"),
    ("xavier_uniform_", lambda w: init.xavier_uniform_(w, gain=1e300), ValueError, "out of bounds for float32"),
    ("xavier_uniform_", lambda w: init.xavier_uniform_(w, gain=-1.0), ValueError, "a <= b"),
    ("xavier_normal_", lambda w: init.xavier_normal_(w, gain=math.nan), ValueError, "gain must be a finite number"),
    ("xavier_normal_", lambda w: init.xavier_normal_(w, gain=1e300), ValueError, "out of bounds for float32"),
    ("kaiming_uniform_", lambda w: init.kaiming_uniform_(w, mode="fan_avg"), ValueError, "mode must be one of"),
    ("kaiming_uniform_", lambda w: init.kaiming_uniform_(w, a=math.inf), ValueError, "finite number, got inf"),
    ("kaiming_normal_", lambda w: init.kaiming_normal_(w, nonlinearity="gelu"), ValueError, "unsupported nonlinearity"),
    ("kaiming_normal_", lambda w: init.kaiming_normal_(w, rng="seed"), TypeError, "rng must be"),
    ("kaiming_normal_", lambda w: init.kaiming_normal_(np.ones((2, 0, 3), np.float32)), ValueError, "fan_in and fan_out"),
]


def test_every_initializer_has_refused_calls_below():
    public = {n for n in init.__dict__ if n.endswith("_") and not n.startswith("_") and callable(init.__dict__[n])}
    assert public == {name for name, *_ in REFUSED}


@pytest.mark.parametrize("name, call, error, message", REFUSED, ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSED)])
def test_a_refused_call_leaves_the_weight_byte_for_byte_unchanged(name, call, error, message):
    w = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    before = w.tobytes()
    with pytest.raises(error, match=message):
        call(w)
    assert w.tobytes() == before, f"{name} changed the weight before refusing"


@pytest.mark.parametrize(
    "fill, call",
    [
        ("overflow", lambda nn, w: nn.constant_(w, F32_HUGE)),
        ("0-d value", lambda nn, w: nn.constant_(w, np.array([1.0, 2.0, 3.0, 4.0]))),
        ("out of bounds", lambda nn, w: nn.uniform_(w, 0.0, F32_HUGE)),
    ],
)
def test_torch_refuses_these_fills_too(fill, call):
    with pytest.raises((RuntimeError, TypeError)):
        call(torch.nn.init, torch.zeros(3, 4))


def test_the_values_torch_accepts_still_fill():
    for val, dtype in [(math.inf, np.float32), (-math.inf, np.float64), (1e300, np.float64), (True, np.float64),
                       (np.float32(0.25), np.float32), (np.array(2.5), np.float64), (3, np.float32)]:
        w = init.constant_(np.zeros(3, dtype), val)
        expected = torch.nn.init.constant_(torch.zeros(3, dtype=getattr(torch, np.dtype(dtype).name)),
                                           val.item() if isinstance(val, np.ndarray) else val)
        np.testing.assert_array_equal(w, expected.numpy(), err_msg=f"constant_ {val!r}")


def test_a_read_only_weight_is_refused_before_any_draw():
    w = np.zeros((3, 4))
    w.flags.writeable = False
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="uniform_: expected a writeable array, got a read-only one"):
        init.uniform_(w, rng=rng)
    assert rng.uniform() == np.random.default_rng(0).uniform()  # the generator was not advanced
