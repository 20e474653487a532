"""dismantle.data: the digits split, the spirals and seeded mini-batches (fit and evaluate: test_training.py)."""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits as sklearn_digits

import dismantle as dm


def test_digits_split_is_a_partition_of_sklearn_data_scaled_by_16():
    x_train, x_test, y_train, y_test = dm.load_digits()
    digits = sklearn_digits()
    assert x_train.shape == (1438, 64) and x_test.shape == (359, 64)
    assert y_train.shape == (1438,) and y_test.shape == (359,)
    x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    # same rows, reordered: sort both sides by (label, pixels) and compare exactly
    ours = np.lexsort(np.column_stack([x, y]).T)
    theirs = np.lexsort(np.column_stack([digits.data / 16, digits.target]).T)
    np.testing.assert_array_equal(x[ours], digits.data[theirs] / 16)
    np.testing.assert_array_equal(y[ours], digits.target[theirs])


def test_digits_scaling_keeps_range_and_blank_pixels():
    x_train, x_test, _, _ = dm.load_digits()
    for x in (x_train, x_test):
        assert x.dtype == np.float64 and x.min() == 0.0 and x.max() == 1.0
    assert not x_train[:, 0].any(), "pixel 0 is blank in every image: standardising would divide by zero"


def test_digits_split_is_seeded():
    a, b = dm.load_digits(seed=0), dm.load_digits(seed=0)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[3], dm.load_digits(seed=1)[3])


def test_digits_every_class_in_both_parts_and_float32():
    x_train, x_test, y_train, y_test = dm.load_digits(test_size=0.5, dtype=np.float32)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert len(x_test) == 898  # round(0.5 * 1797), half to even
    assert set(y_train) == set(y_test) == set(range(10))


@pytest.mark.parametrize("kwargs, error", [(dict(test_size=0.0), ValueError), (dict(test_size=1.0), ValueError),
                                           (dict(dtype=np.int32), TypeError)])
def test_digits_bad_arguments(kwargs, error):
    with pytest.raises(error):
        dm.load_digits(**kwargs)


def test_digits_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"needs scikit-learn"):
        dm.load_digits()


def test_spirals_radius_and_rotation_without_noise():
    x, y = dm.make_spirals(30, classes=3, noise=0.0, rng=np.random.default_rng(0))
    assert x.shape == (90, 2) and np.bincount(y).tolist() == [30, 30, 30]
    np.testing.assert_allclose(np.hypot(x[:, 0], x[:, 1]), np.tile(np.linspace(0, 1, 30), 3), atol=1e-15)
    turn = 2 * np.pi / 3  # arm 1 is arm 0 turned by a third of a circle
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    np.testing.assert_allclose(x[y == 0] @ rot.T, x[y == 1], atol=1e-12)


def test_spirals_are_seeded_and_noisy():
    a = dm.make_spirals(rng=np.random.default_rng(5))[0]
    b = dm.make_spirals(rng=np.random.default_rng(5))[0]
    c = dm.make_spirals(rng=np.random.default_rng(6))[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kwargs, error", [(dict(n_per_class=1), ValueError), (dict(classes=1), ValueError),
                                           (dict(classes=2.0), TypeError)])
def test_spirals_bad_sizes(kwargs, error):
    with pytest.raises(error, match="must be an int >= 2"):
        dm.make_spirals(**kwargs)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), seed=st.integers(0, 2**32 - 1))
def test_batches_cover_each_row_once_and_keep_pairs(n, batch_size, seed):
    x = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    y = np.arange(n)
    pieces = list(dm.batches(x, y, batch_size, np.random.default_rng(seed)))
    sizes = [len(yb) for _, yb in pieces]
    assert sizes == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    seen = np.concatenate([yb for _, yb in pieces])
    np.testing.assert_array_equal(np.sort(seen), y)
    for xb, yb in pieces:
        np.testing.assert_array_equal(xb, x[yb])  # row k of x still goes with label k


def test_batches_are_seeded_and_none_keeps_order():
    x, y = np.zeros((10, 2)), np.arange(10)
    a = [yb.tolist() for _, yb in dm.batches(x, y, 4, np.random.default_rng(3))]
    b = [yb.tolist() for _, yb in dm.batches(x, y, 4, np.random.default_rng(3))]
    assert a == b and a != [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [yb.tolist() for _, yb in dm.batches(x, y, 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_batches_are_copies():
    x, y = np.zeros((4, 2)), np.arange(4)
    xb, _ = next(iter(dm.batches(x, y, 2)))
    xb += 1
    assert not x.any()


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((np.zeros((3, 2)), np.zeros(4), 2), ValueError, r"same number of rows, got shapes \(3, 2\) and \(4,\)"),
        ((np.zeros((3, 2)), np.zeros(3), 0), ValueError, "batch_size must be a positive int, got 0"),
        ((np.zeros((3, 2)), np.zeros(3), 1.5), TypeError, "batch_size must be a positive int, got float 1.5"),
        ((np.zeros((3, 2)), [0, 1, 2], 1), TypeError, "expected NumPy arrays, got ndarray and list"),
        ((np.zeros((3, 2)), np.zeros(3), 1, 42), TypeError, "rng must be a numpy.random.Generator"),
    ],
)
def test_batches_bad_arguments_raise_at_the_call(args, error, message):
    with pytest.raises(error, match=message):
        dm.batches(*args)



# --- Odd arguments (issue 10): seeds, NaN noise, int dtypes, empty splits, negative epochs -------


def test_make_spirals_takes_an_int_seed():
    a, b = dm.make_spirals(10, rng=0), dm.make_spirals(10, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(noise=float("nan")), ValueError, r"make_spirals: noise must be a finite number >= 0, got nan"),
    (dict(noise=-0.1), ValueError, r"make_spirals: noise must be a finite number >= 0, got -0.1"),
    (dict(noise="0.1"), TypeError, r"make_spirals: noise must be a real number, got str"),
    (dict(dtype=np.int64), TypeError, r"make_spirals: dtype must be float32 or float64, got int64"),
    (dict(rng="seed"), TypeError, r"make_spirals: rng must be None, an int seed or a numpy.random.Generator"),
])
def test_make_spirals_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        dm.make_spirals(10, **kwargs)


@pytest.mark.parametrize("test_size", [1e-4, 1 - 1e-4])
def test_digits_split_that_would_leave_a_part_empty_is_refused(test_size):
    with pytest.raises(ValueError, match=rf"load_digits: test_size={test_size} leaves (0|1797) of 1797 images"):
        dm.load_digits(test_size=test_size)


# --- Arguments of the wrong type are named (issue 20) -------------------------------------------


@pytest.mark.parametrize("test_size", ["0.2", None, True, [0.2], 1j])
def test_digits_test_size_of_the_wrong_type_is_named(test_size):
    with pytest.raises(TypeError, match=rf"load_digits: test_size must be a real number in \(0, 1\), got "
                                        rf"{type(test_size).__name__}"):
        dm.load_digits(test_size=test_size)


@pytest.mark.parametrize("test_size", [float("nan"), -0.5, 2])
def test_digits_test_size_out_of_range_is_named(test_size):
    with pytest.raises(ValueError, match=r"load_digits: test_size must be in \(0, 1\), got"):
        dm.load_digits(test_size=test_size)


@pytest.mark.parametrize("seed, error, message", [
    ("0", TypeError, "load_digits: seed must be an int >= 0, got str"),
    (1.5, TypeError, "load_digits: seed must be an int >= 0, got float"),
    (True, TypeError, "load_digits: seed must be an int >= 0, got bool"),
    (-1, ValueError, "load_digits: seed must be an int >= 0, got -1"),
])
def test_digits_seed_of_the_wrong_kind_is_named(seed, error, message):
    with pytest.raises(error, match=message):
        dm.load_digits(seed=seed)


@pytest.mark.parametrize("call, name", [(lambda: dm.load_digits(dtype="float99"), "load_digits"),
                                        (lambda: dm.make_spirals(10, dtype="float99"), "make_spirals")])
def test_a_dtype_numpy_does_not_know_is_named(call, name):
    with pytest.raises(TypeError, match=rf"{name}: dtype must be float32 or float64, got 'float99'"):
        call()


def test_numpy_scalars_are_accepted_where_numbers_are():
    a = dm.load_digits(test_size=np.float32(0.25), seed=np.int64(3))
    b = dm.load_digits(test_size=0.25, seed=3)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_data_does_not_reach_up_into_training():
    """STYLE: data sits below training; the old `dismantle.data.fit` shim made the one import circle."""
    import dismantle.data

    assert not hasattr(dismantle.data, "fit") and not hasattr(dismantle.data, "evaluate")
    source = Path(dismantle.data.__file__).read_text()
    assert "from . import training" not in source and "from .training" not in source
