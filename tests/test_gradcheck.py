"""gradcheck must pass on right derivatives and fail, loudly, on wrong ones."""

import numpy as np
import pytest

import dismantle as dm


def test_numerical_gradient_of_a_known_function():
    x = np.array([0.5, -1.0, 2.0])
    num = dm.numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(num, 3 * x**2, rtol=1e-8)  # central differences: error O(eps^2)
    np.testing.assert_array_equal(x, [0.5, -1.0, 2.0])  # restored after perturbation


def test_passes_on_the_right_derivative():
    x = np.array([[0.3, -0.7], [1.1, 0.2]])
    assert dm.gradcheck(lambda x: float(np.sum(np.sin(x))), [x], [np.cos(x)])


def test_fails_on_a_wrong_derivative():
    x = np.array([[0.3, -0.7], [1.1, 0.2]])
    wrong = np.cos(x) * 1.01  # one per cent off: far outside rtol=1e-3
    with pytest.raises(dm.GradcheckError, match=r"input 0 disagrees at 4 of 4 elements"):
        dm.gradcheck(lambda x: float(np.sum(np.sin(x))), [x], [wrong])
    assert dm.gradcheck(lambda x: float(np.sum(np.sin(x))), [x], [wrong], raise_exception=False) is False


def test_fails_on_a_forgotten_transpose():
    rng = np.random.default_rng(0)
    layer = dm.Linear(3, 3, rng=rng)
    x, g = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    layer(x)
    layer.backward(g)
    loss = lambda *_: float(np.sum(g * layer(x)))  # noqa: E731
    with pytest.raises(dm.GradcheckError, match="input 0"):
        dm.gradcheck(loss, [layer.weight.data], [layer.weight.grad.T])


def test_rejects_float32_and_mismatched_shapes():
    with pytest.raises(TypeError, match="expected a float64 ndarray, got float32"):
        dm.numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match=r"input 0 has shape \(2,\) but its gradient has \(3,\)"):
        dm.gradcheck(lambda x: 0.0, [np.zeros(2)], [np.zeros(3)])


# --- Edges (issue 10): any memory layout, NaN/inf never pass, bad arguments named ---------------

import re  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

LAYOUTS = ("C", "F", "transposed", "sliced", "strided", "reversed")
PROPS = settings(max_examples=60, deadline=None, derandomize=True)


def laid_out(values, layout):
    """`values` (C order) as an array with the same contents but the given memory layout."""
    if layout == "C":
        return values.copy()
    if layout == "F":
        return np.asfortranarray(values)
    if layout == "transposed":
        return np.ascontiguousarray(values.T).T  # a transposed view of a C array
    if values.ndim == 0:
        return values.copy()
    if layout == "sliced":  # the first columns of a wider array, as in x[:, :2]
        big = np.zeros(values.shape[:-1] + (values.shape[-1] + 1,))
        big[..., :-1] = values
        return big[..., :-1]
    if layout == "strided":  # every other column of a wider array
        big = np.zeros(values.shape[:-1] + (2 * values.shape[-1],))
        big[..., ::2] = values
        return big[..., ::2]
    return np.ascontiguousarray(values[..., ::-1])[..., ::-1]  # negative strides


@st.composite
def problems(draw):
    """A float64 input of 0 to 3 axes (sizes 1..4) in a random memory layout, and a seed."""
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=3)))
    layout = draw(st.sampled_from(LAYOUTS))
    seed = draw(st.integers(0, 2**16))
    values = np.random.default_rng(seed).uniform(-2, 2, size=shape)
    x = laid_out(np.asarray(values), layout)
    np.testing.assert_array_equal(x, values)  # same contents, whatever the layout
    return x, layout, seed


def weighted_sin(x, seed):
    """f(x) = sum(w * sin(x)) with fixed weights, and its gradient w * cos(x)."""
    w = np.random.default_rng(seed + 1).uniform(0.5, 1.5, size=x.shape)
    return (lambda v: float(np.sum(w * np.sin(v)))), np.asarray(w * np.cos(x))


@PROPS
@given(problems())
def test_property_right_gradient_passes_in_every_layout(problem):
    x, _, seed = problem
    f, grad = weighted_sin(x, seed)
    assert dm.gradcheck(f, [x], [grad])


@PROPS
@given(problems(), st.sampled_from(["off", "nan", "inf", "-inf"]), st.integers(0, 10**6))
def test_property_one_bad_element_fails_and_is_named(problem, fault, where):
    x, _, seed = problem
    f, grad = weighted_sin(x, seed)
    idx = np.unravel_index(where % max(x.size, 1), x.shape)
    bad = grad.copy()
    bad[idx] = {"off": grad[idx] + 0.05, "nan": np.nan, "inf": np.inf, "-inf": -np.inf}[fault]
    with pytest.raises(dm.GradcheckError, match=rf"input 0 .*{re.escape(str(tuple(int(i) for i in idx)))}"):
        dm.gradcheck(f, [x], [bad])
    assert dm.gradcheck(f, [x], [bad], raise_exception=False) is False


@pytest.mark.parametrize("layout", LAYOUTS)
def test_issue_example_sliced_input_zero_gradient_fails(layout):
    x = laid_out(np.arange(12.0).reshape(3, 4)[:, :2].copy(), layout)
    if layout == "C":
        x = np.arange(12.0).reshape(3, 4)[:, :2]  # the issue's exact input: a sliced view
    f = lambda v: float(v.sum())  # noqa: E731
    with pytest.raises(dm.GradcheckError, match="input 0"):
        dm.gradcheck(f, [x], [np.zeros((3, 2))])
    assert dm.gradcheck(f, [x], [np.ones((3, 2))])


def test_numerical_gradient_perturbs_a_strided_view_that_a_closure_reads():
    base = np.arange(12.0).reshape(3, 4)
    x = base[:, 1::2]  # f reads base, x is a strided window into it
    num = dm.numerical_gradient(lambda: float(np.sum(base**2)), x)
    np.testing.assert_allclose(num, 2 * x, rtol=1e-8)
    np.testing.assert_array_equal(base, np.arange(12.0).reshape(3, 4))  # restored


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_f_returning_nan_or_inf_fails_naming_input_and_element(value):
    x = np.array([[0.5, 1.0], [1.5, 2.0]])

    def f(v):
        return float(v.sum()) if v[1, 0] == 1.5 else value  # blows up as soon as (1, 0) moves

    with pytest.raises(dm.GradcheckError, match=r"input 0 .*\(1, 0\).*f returned"):
        dm.gradcheck(f, [x], [np.ones((2, 2))])
    assert dm.gradcheck(f, [x], [np.ones((2, 2))], raise_exception=False) is False


def test_f_not_finite_at_the_point_itself_fails():
    with pytest.raises(dm.GradcheckError, match=r"f returned nan at the unperturbed inputs"):
        dm.gradcheck(lambda v: float("nan"), [np.ones(2)], [np.zeros(2)])


def test_numerical_gradient_refuses_a_non_finite_f():
    x = np.array([1.0, 0.0])
    with pytest.raises(ValueError, match=r"element \(1,\) of x, f returned inf"):
        dm.numerical_gradient(lambda: np.inf if x[1] < 0 else float(x.sum()), x)


@pytest.mark.parametrize("eps", [0.0, -1e-6, np.nan])
def test_rejects_a_step_that_is_not_positive(eps):
    with pytest.raises(ValueError, match=r"eps: expected a positive finite step, got"):
        dm.gradcheck(lambda v: float(v.sum()), [np.ones(2)], [np.ones(2)], eps=eps)
    with pytest.raises(ValueError, match=r"eps: expected a positive finite step, got"):
        dm.numerical_gradient(lambda: 0.0, np.ones(2), eps=eps)


def test_rejects_a_vector_valued_f():
    with pytest.raises(ValueError, match=r"f must return a scalar .*got shape \(3,\)"):
        dm.gradcheck(lambda v: v * 2, [np.ones(3)], [np.ones(3)])
    with pytest.raises(ValueError, match=r"f must return a scalar .*got shape \(3,\)"):
        dm.numerical_gradient(lambda: np.ones(3), np.ones(3))


def test_rejects_list_inputs_and_a_bare_array():
    with pytest.raises(TypeError, match=r"gradcheck input 0: expected a float64 ndarray, got list"):
        dm.gradcheck(lambda v: float(sum(v)), [[1.0, 2.0]], [[1.0, 1.0]])
    with pytest.raises(TypeError, match=r"inputs: expected a list or tuple of ndarrays, got ndarray"):
        dm.gradcheck(lambda v: float(v.sum()), np.ones(2), [np.ones(2)])
    with pytest.raises(TypeError, match=r"gradient 0: expected a float ndarray, got str"):
        dm.gradcheck(lambda v: float(v.sum()), [np.ones(2)], ["no"])


def test_rejects_a_read_only_input():
    x = np.ones(2)
    x.flags.writeable = False
    with pytest.raises(ValueError, match=r"input 0: expected a writeable array .*perturbed in place"):
        dm.gradcheck(lambda v: float(v.sum()), [x], [np.ones(2)])


# --- Planted faults the oracle must refuse (issue 20) ------------------------------------------

WRONG = (lambda x: float(np.sum(x**2)), [np.array([1.0, -2.0])], [np.array([5.0, 5.0])])  # 2x is right


@pytest.mark.parametrize("name", ["atol", "rtol"])
@pytest.mark.parametrize("value", [np.nan, -1e-5, np.inf, -np.inf])
def test_a_tolerance_that_would_approve_anything_is_refused(name, value):
    f, inputs, wrong = WRONG
    with pytest.raises(ValueError, match=rf"gradcheck: {name} must be a finite number >= 0, got {value!r}"):
        dm.gradcheck(f, inputs, wrong, raise_exception=False, **{name: value})  # never True for a wrong gradient


@pytest.mark.parametrize("value", ["1e-5", None, True, 1j])
def test_a_tolerance_that_is_not_a_real_number_is_named(value):
    f, inputs, wrong = WRONG
    with pytest.raises(TypeError, match=rf"gradcheck: atol must be a real number >= 0, got {type(value).__name__}"):
        dm.gradcheck(f, inputs, wrong, atol=value)


def test_the_tolerances_refused_are_the_ones_that_cannot_fail():
    f, inputs, wrong = WRONG  # the planted fault: with these, |g - n| > atol + rtol |n| is never true
    with np.errstate(invalid="ignore"):
        for atol, rtol in [(np.nan, 1e-3), (1e-5, np.nan), (np.inf, 1e-3), (1e-5, np.inf)]:
            assert not (np.abs(wrong[0] - 2 * inputs[0]) > atol + rtol * np.abs(2 * inputs[0])).any()
    assert dm.gradcheck(f, inputs, [2 * inputs[0]], atol=0.0, rtol=1e-6)  # 0 is a strict, valid tolerance


def test_a_central_difference_that_overflows_is_a_failure_not_a_pass():
    x = np.array([0.0])
    f = lambda x: float(1e308 * np.tanh(1e7 * x[0]))  # noqa: E731  f(+eps) - f(-eps) overflows to inf
    with pytest.raises(dm.GradcheckError, match=r"input 0 at index \(0,\): the central difference is not finite \(inf\)"):
        dm.gradcheck(f, [x], [np.array([0.0])])  # |0 - inf| > atol + rtol * inf is False: would pass
    with pytest.raises(ValueError, match=r"numerical_gradient: at element \(0,\) of x, the central difference is not finite \(inf\)"):
        dm.numerical_gradient(lambda: f(x), x)


def test_numpy_scalar_steps_and_tolerances_are_accepted():
    x = np.array([1.0, -2.0])
    assert dm.gradcheck(lambda x: float(np.sum(x**2)), [x], [2 * x], eps=np.float32(1e-4), atol=np.float64(1e-5))


def test_an_f_that_changes_its_input_in_place_is_named_and_the_input_restored():
    x = np.array([1.0, -2.0, 3.0])

    def f(x):
        x /= np.abs(x).max()  # normalises in place: every later nudge starts somewhere else
        return float(np.sum(x**2))

    with pytest.raises(ValueError, match=r"gradcheck: f changed input 0 in place"):
        dm.gradcheck(f, [x], [2 * x])
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # nothing lost: the caller's array is back

    y = np.array([1.0, -2.0, 3.0])
    with pytest.raises(ValueError, match=r"numerical_gradient: f changed x in place"):
        dm.numerical_gradient(lambda: f(y), y)
    np.testing.assert_array_equal(y, [1.0, -2.0, 3.0])
