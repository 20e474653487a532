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
