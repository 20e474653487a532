"""The autograd engine at the numeric edges (issue 20): each probe against torch float64.

An outside tester found calls where `Tensor` gave a silently different number from torch's:
division taken as `a * b**-1`, backward products formed in an order that overflows, a
`0 * inf` in ReLU's backward, a float64 constant cast down to float32, an input changed after
the graph was built. Each test below names the call and compares with torch 2.13 in float64,
tolerance written in the test, or expects a clear error naming what was expected and what came.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dismantle.autograd import Tensor, cross_entropy

EXACT = dict(rtol=0, atol=0)  # the same IEEE operations in the same order: the same bits


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def gold(values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype, requires_grad=True)


# --- Division, powers: the order of the operations ------------------------------------------


def test_division_is_a_true_division_not_a_times_b_to_the_minus_one():
    out = Tensor([1e-300]) / Tensor([1e-309])  # 1/1e-309 overflows: a * b**-1 would be inf
    expected = torch.tensor([1e-300], dtype=torch.float64) / torch.tensor([1e-309], dtype=torch.float64)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-15)
    assert out.data[0] == pytest.approx(1e9, rel=1e-6)  # 1e-309 is subnormal: ~1e9, not exactly


@pytest.mark.parametrize("a, b", [(1e160, 3e160), (1e-200, 1e-200), (3.0, -7.0), (-1e300, 1e-10)])
def test_division_gradients_follow_torchs_order(a, b):
    ta, tb = leaf(a), leaf(b)
    (ta / tb).backward()
    qa, qb = gold(a), gold(b)
    (qa / qb).backward()  # torch: d/db = -g * ((a / b) / b), so a/b is formed before the square
    np.testing.assert_allclose(ta.grad, qa.grad.numpy(), **EXACT, err_msg="d(a/b)/da")
    np.testing.assert_allclose(tb.grad, qb.grad.numpy(), **EXACT, err_msg="d(a/b)/db")


def test_the_two_rows_of_the_issue_for_d_a_over_b_db():
    for (a, b), expected in [((1e160, 3e160), -1.111111111e-161), ((1e-200, 1e-200), -1e200)]:
        ta, tb = leaf(a), leaf(b)
        (ta / tb).backward()
        assert tb.grad == pytest.approx(expected, rel=1e-9), (a, b)


def test_power_gradient_is_formed_as_torch_forms_it():
    x = leaf(0.25)
    (1e308 * x**2).backward()  # torch: g * (k * x**(k-1)) = 1e308 * 0.5, never 2e308 * 0.25
    t = gold(0.25)
    (1e308 * t**2).backward()
    assert x.grad == t.grad.item() == 5e307


POWERS = [(0.0, 0), (0.0, 0.0), (0.0, -1), (0.0, -2), (0.0, 0.5), (0.0, 1), (0.0, 2), (-2.0, 3), (-2.0, -1),
          (-2.0, 2.5), (-8.0, 1 / 3), (-0.0, -1), (np.inf, -1), (-np.inf, 3), (1e200, 2), (1e-200, -2)]


@pytest.mark.parametrize("base, k", POWERS)
def test_powers_at_their_edges_match_torch(base, k):
    x = leaf([base])
    out = x**k
    out.backward(np.array([1.5]))
    t = gold([base])
    ref = t**k
    ref.backward(torch.tensor([1.5], dtype=torch.float64))
    np.testing.assert_array_equal(out.data, ref.detach().numpy(), err_msg=f"({base}) ** {k}")
    np.testing.assert_array_equal(x.grad, t.grad.numpy(), err_msg=f"d/dx ({base}) ** {k}")


@pytest.mark.parametrize("k", [np.int64(2), np.float32(0.5), np.float64(-1.0)])
def test_numpy_scalar_exponents_work_as_torchs_do(k):
    x = leaf([2.0, 3.0])
    (x**k).sum().backward()
    t = gold([2.0, 3.0])
    (t ** k.item()).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-15)


def test_mean_divides_by_n_as_torch_does():
    x = leaf([3.0, 0.0, 0.0, 0.0, 0.0])
    out = x.mean()  # 3 / 5 = 0.6, but 3 * (1 / 5) = 0.6000000000000001
    out.backward(np.array(3.0))
    t = gold([3.0, 0.0, 0.0, 0.0, 0.0])
    ref = t.mean()
    ref.backward(torch.tensor(3.0, dtype=torch.float64))
    assert out.data == ref.item() == 0.6
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


def test_relu_passes_an_infinite_gradient_where_x_is_positive_and_none_elsewhere():
    x = leaf([-1.0, 2.0])
    x.relu().backward(np.array([np.inf, np.inf]))  # 0 * inf would be NaN: torch selects instead
    t = gold([-1.0, 2.0])
    t.relu().backward(torch.tensor([np.inf, np.inf], dtype=torch.float64))
    np.testing.assert_array_equal(x.grad, t.grad.numpy())
    np.testing.assert_array_equal(x.grad, [0.0, np.inf])


def test_relu_keeps_the_sign_of_a_negative_zero_like_torch():
    out = Tensor(np.array([-0.0, 0.0])).relu()
    ref = torch.relu(torch.tensor([-0.0, 0.0], dtype=torch.float64))
    np.testing.assert_array_equal(np.signbit(out.data), np.signbit(ref.numpy()))  # [-0., 0.]


# --- dtype promotion: torch's rule (a 0-d operand does not raise a dimensioned one's dtype) -----

F32, F64 = np.float32, np.float64
ONE = 1 + 1e-10  # 1.0 in float32, 1.0000000001 in float64

# (left, right) operands; a numpy array stands for torch.from_numpy(array), a Python or NumPy scalar
# for itself (torch wraps it), a ("T", array) pair for a Tensor with requires_grad
PROMOTIONS = {
    "f32 Tensor x f64 array": (("T", np.ones(1, F32)), np.array([ONE])),
    "f32 Tensor x f64 0-d array": (("T", np.ones(1, F32)), np.array(ONE)),
    "f32 0-d Tensor x f64 array": (("T", np.array(1.0, F32)), np.array([ONE])),
    "f64 0-d Tensor x f32 Tensor": (("T", np.array(ONE)), ("T", np.ones(2, F32))),
    "f32 0-d Tensor x f64 0-d Tensor": (("T", np.array(1.0, F32)), ("T", np.array(ONE))),
    "f32 Tensor x f64 Tensor": (("T", np.ones(2, F32)), ("T", np.full(2, ONE))),
    "f32 Tensor x int64 array": (("T", np.ones(2, F32)), np.array([3, 4])),
    "f32 0-d Tensor x int64 array": (("T", np.array(1.5, F32)), np.array([3, 4])),
    "f32 Tensor x bool array": (("T", np.ones(2, F32)), np.array([True, False])),
    "f32 Tensor x Python float": (("T", np.ones(2, F32)), ONE),
    "f32 Tensor x NumPy float64": (("T", np.ones(2, F32)), np.float64(ONE)),
    "f64 array x f32 Tensor": (np.array([ONE]), ("T", np.ones(1, F32))),
}


def ours_of(x):
    return Tensor(x[1], requires_grad=True) if isinstance(x, tuple) else x


def torchs_of(x):
    if isinstance(x, tuple):
        return torch.tensor(x[1], requires_grad=True)
    return torch.from_numpy(x) if isinstance(x, np.ndarray) else x


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
@pytest.mark.parametrize("case", PROMOTIONS, ids=list(PROMOTIONS))
def test_mixed_dtypes_promote_as_torch_does(case, op):
    a, b = PROMOTIONS[case]
    fn = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": lambda x, y: x / y}[op]
    ours_a, ours_b, ref_a, ref_b = ours_of(a), ours_of(b), torchs_of(a), torchs_of(b)
    try:
        ref = fn(ref_a, ref_b)
    except RuntimeError:  # torch refuses to subtract a bool array: so do we, by name
        with pytest.raises(TypeError, match="Tensor -: expected a real operand, got dtype bool"):
            fn(ours_a, ours_b)
        return
    out = fn(ours_a, ours_b)
    assert out.data.dtype == np.dtype(str(ref.dtype).removeprefix("torch.")), f"{case} {op}: dtype"
    np.testing.assert_array_equal(out.data, ref.detach().numpy(), err_msg=f"{case} {op}: value")
    g = np.full(out.shape, 1.25)
    out.backward(g)
    ref.backward(torch.from_numpy(g).to(ref.dtype))
    for o, r in ((ours_a, ref_a), (ours_b, ref_b)):
        if isinstance(o, Tensor):  # each leaf's gradient has the leaf's own dtype, as in torch
            assert o.grad.dtype == o.data.dtype, f"{case} {op}: gradient dtype"
            np.testing.assert_array_equal(o.grad, r.grad.numpy(), err_msg=f"{case} {op}: gradient")


def test_the_issue_row_float32_tensor_times_float64_array():
    out = Tensor(np.ones(1, F32)) * np.array([ONE])
    assert out.data.dtype == F64 and out.data[0] == 1.0000000001


def test_matmul_refuses_mixed_dtypes_as_torch_does():
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.ones(2, 2) @ torch.ones(2, 2, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"Tensor @: expected operands of one dtype, got float32 @ float64"):
        Tensor(np.ones((2, 2), F32)) @ Tensor(np.ones((2, 2)))


@pytest.mark.parametrize("other", [np.array([1j, 1j]), 1j, np.complex128(1j)], ids=["array", "python", "numpy"])
def test_complex_operands_are_refused_not_truncated(other):
    with pytest.raises(TypeError, match=r"Tensor \*: expected a real operand \(dismantle has no complex numbers\)"):
        Tensor(np.array([1.0, 2.0])) * other


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: t + None, "Tensor \\+: expected a Tensor, a NumPy array or a real number, got NoneType"),
        (lambda t: None + t, "Tensor \\+: expected a Tensor, a NumPy array or a real number, got NoneType"),
        (lambda t: t * "2", "Tensor \\*: expected a Tensor, a NumPy array or a real number, got str"),
        (lambda t: t - object(), "Tensor -: expected a Tensor, a NumPy array or a real number, got object"),
        (lambda t: 1.0 / t * None, "got NoneType"),
        (lambda t: t / np.array(["a"]), "Tensor /: expected a real operand, got dtype <U1"),
        (lambda t: t + np.array([1.0, np.nan]), r"Tensor \+ operand: expected numbers \(±inf allowed\), got NaN"),
        (lambda t: t**None, "Tensor \\*\\* k: expected a constant int or float exponent, got NoneType"),
    ],
)
def test_operands_that_are_not_numbers_are_named(call, message):
    with pytest.raises(TypeError if "NaN" not in message else ValueError, match=message):
        call(Tensor(np.array([1.0, 2.0])))


def test_a_list_of_numbers_makes_a_float64_tensor():
    t = Tensor([1.0, 2])
    assert t.data.dtype == F64 and t.data.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match=r"Tensor data: expected numbers, got a list of dtype bool"):
        Tensor([True, False])


# --- Aliasing: the graph keeps the values it was built from ------------------------------------


def test_tensor_copies_its_input_like_torch_tensor():
    x = np.array([1.0, -2.0, 3.0])
    t = Tensor(x, requires_grad=True)
    loss = (t * t).sum()
    x[:] = 10.0  # changed after the graph was built
    loss.backward()
    q = torch.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    (q * q).sum().backward()
    np.testing.assert_array_equal(t.grad, q.grad.numpy())  # 2x of the values the loss saw
    np.testing.assert_array_equal(t.data, [1.0, -2.0, 3.0])


def test_a_constant_array_changed_after_the_forward_does_not_change_the_gradient():
    c = np.array([2.0, 3.0])
    t = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    loss = (t * c).sum()
    c[:] = 10.0
    loss.backward()
    np.testing.assert_array_equal(t.grad, [2.0, 3.0])


def test_an_index_array_changed_after_the_forward_does_not_move_the_gradient():
    idx = np.array([0, 0, 1])
    t = Tensor(np.zeros(3), requires_grad=True)
    out = t[idx].sum()
    idx[:] = 2
    out.backward()
    np.testing.assert_array_equal(t.grad, [2.0, 1.0, 0.0])


def test_labels_changed_after_cross_entropy_do_not_change_its_gradient():
    z = np.array([[0.1, 0.4, 0.2], [0.3, 0.9, 0.6]])
    labels = np.array([2, 0])
    logits = Tensor(z, requires_grad=True)
    loss = cross_entropy(logits, labels)
    labels[:] = 1
    loss.backward()
    q = torch.tensor(z, requires_grad=True)
    torch.nn.functional.cross_entropy(q, torch.tensor([2, 0])).backward()
    np.testing.assert_allclose(logits.grad, q.grad.numpy(), rtol=1e-12, atol=0)


# --- Reductions over tuples, negative and empty axes; empty rows --------------------------------


def test_mean_over_a_tuple_of_axes_reduces_over_both():
    x = np.arange(6.0).reshape(2, 3)
    out = Tensor(x).mean(axis=(0, 1))
    assert out.shape == () and out.data == torch.tensor(x).mean(dim=(0, 1)).item() == 2.5


def reduce_ours(t, op, axis, keepdims):
    return getattr(t, op)(axis=axis, keepdims=keepdims)


def reduce_torch(t, op, axis, keepdims):
    return getattr(t, op)(dim=axis, keepdim=keepdims)


@st.composite
def reductions(draw):
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    ndim = len(shape)
    if ndim == 0:
        axis = draw(st.sampled_from([None, (), 0, -1, (0,)]))
    else:
        picked = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
        signed = tuple(a - ndim if draw(st.booleans()) else a for a in picked)
        axis = draw(st.sampled_from([None, signed, signed[0] if len(signed) == 1 else signed]))
    return shape, axis, draw(st.booleans()), draw(st.sampled_from(["sum", "mean"])), draw(st.integers(0, 2**16))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(reductions())
def test_sum_and_mean_over_any_axes_match_torch(case):
    shape, axis, keepdims, op, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    t = Tensor(x, requires_grad=True)
    out = reduce_ours(t, op, axis, keepdims)
    q = torch.tensor(x, requires_grad=True)
    ref = reduce_torch(q, op, axis, keepdims)
    assert out.shape == tuple(ref.shape), f"{op}{shape} axis={axis} keepdims={keepdims}: shape"
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-13, atol=1e-15, equal_nan=True)
    g = rng.normal(size=out.shape)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(t.grad, q.grad.numpy(), rtol=1e-13, atol=1e-15, err_msg="gradient")


@pytest.mark.parametrize(
    "axis, error, message",
    [
        ((0, 0), ValueError, "repeated axis"),
        (2, IndexError, "out of bounds"),
        ((0, 1.0), TypeError, r"Tensor.sum: axis must be None, an int or a tuple of ints, got \(0, 1.0\)"),
        (True, TypeError, "Tensor.sum: axis must be None, an int or a tuple of ints, got True"),
    ],
)
def test_bad_axes_are_named(axis, error, message):
    with pytest.raises(error, match=message):
        Tensor(np.ones((2, 3))).sum(axis=axis)


@pytest.mark.parametrize("shape", [(2, 0), (0,), (0, 3), ()])
def test_logsumexp_and_log_softmax_of_empty_and_0d_tensors_match_torch(shape):
    x = np.full(shape, 0.5)
    for op in ("logsumexp", "log_softmax"):
        t = Tensor(x, requires_grad=True)
        out = getattr(t, op)()
        q = torch.tensor(x, requires_grad=True)
        ref = torch.logsumexp(q, -1, keepdim=True) if op == "logsumexp" else torch.log_softmax(q, -1)
        assert out.shape == tuple(ref.shape), f"{op}{shape}: shape"
        np.testing.assert_array_equal(out.data, ref.detach().numpy(), err_msg=f"{op}{shape}")
        g = np.ones(out.shape)
        out.backward(g)
        ref.backward(torch.from_numpy(g))
        np.testing.assert_array_equal(t.grad, q.grad.numpy(), err_msg=f"{op}{shape}: gradient")


def test_logsumexp_of_a_2_by_0_tensor_is_minus_infinity():
    np.testing.assert_array_equal(Tensor(np.zeros((2, 0))).logsumexp().data, [[-np.inf], [-np.inf]])
    assert Tensor(np.zeros((2, 0))).log_softmax().shape == (2, 0)


# --- Every binary operation, over random shapes, dtypes and kinds of operand ------------------

OPS = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": lambda x, y: x / y}
SHAPES = [(), (1,), (3,), (2, 3), (2, 1), (1, 3)]  # all broadcast with each other


@st.composite
def binary_cases(draw):
    op = draw(st.sampled_from(sorted(OPS)))
    kinds = draw(st.sampled_from([("T", "T"), ("T", "array"), ("array", "T"), ("T", "int array"), ("T", "scalar")]))
    shapes = [draw(st.sampled_from(SHAPES)) for _ in kinds]
    dtypes = [draw(st.sampled_from([np.float32, np.float64])) for _ in kinds]
    return op, kinds, shapes, dtypes, draw(st.integers(0, 2**16))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(binary_cases())
def test_binary_operations_match_torch_in_dtype_value_and_gradient(case):
    op, kinds, shapes, dtypes, seed = case
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for kind, shape, dtype in zip(kinds, shapes, dtypes):
        if kind == "scalar":
            v = float(rng.uniform(0.5, 2.0))
            ours.append(v), theirs.append(v)
            continue
        v = rng.uniform(0.5, 2.0, size=shape)  # away from 0: division stays finite
        v = rng.integers(1, 5, size=shape) if kind == "int array" else v.astype(dtype)
        ours.append(Tensor(v, requires_grad=True) if kind == "T" else v)
        theirs.append(torch.tensor(v, requires_grad=True) if kind == "T" else torch.from_numpy(v))
    out, ref = OPS[op](*ours), OPS[op](*theirs)
    label = f"{kinds} {shapes} {[np.dtype(d).name for d in dtypes]} {op}"
    assert out.data.dtype == np.dtype(str(ref.dtype).removeprefix("torch.")), f"{label}: dtype"
    assert out.shape == tuple(ref.shape), f"{label}: shape"
    np.testing.assert_array_equal(out.data, ref.detach().numpy(), err_msg=f"{label}: value")  # one IEEE op
    g = rng.normal(size=out.shape)
    out.backward(g.astype(out.data.dtype))
    ref.backward(torch.from_numpy(g).to(ref.dtype))
    for o, r in zip(ours, theirs):
        if isinstance(o, Tensor):  # a sum over broadcast axes may add in another order: float32 to 1e-6
            tol = 1e-6 if o.data.dtype == np.float32 else 1e-13
            assert o.grad.dtype == o.data.dtype, f"{label}: gradient dtype"
            np.testing.assert_allclose(o.grad, r.grad.numpy(), rtol=tol, atol=tol, err_msg=f"{label}: gradient")


# --- backward's own argument, and indices that are Tensors ------------------------------------


def test_backward_takes_a_tensor_gradient_as_torch_does():
    t = leaf([1.0, 2.0])
    (t * 2.0).backward(Tensor(np.array([1.0, 3.0])))
    q = gold([1.0, 2.0])
    (q * 2.0).backward(torch.tensor([1.0, 3.0], dtype=torch.float64))
    np.testing.assert_array_equal(t.grad, q.grad.numpy())


@pytest.mark.parametrize("gradient, message", [("1", "got dtype <U1"), (np.array([1j]), "got dtype complex128"),
                                               (None, None)])
def test_backward_names_a_gradient_that_is_not_real(gradient, message):
    t = leaf([1.0])
    if message is None:  # None on a one-element output: the implied gradient 1, as torch
        (t * 2.0).backward(gradient)
        assert t.grad[0] == 2.0
        return
    with pytest.raises(TypeError, match=f"backward: expected a real gradient, {message}"):
        (t * 2.0).backward(gradient)


def test_a_tensor_used_as_an_index_is_named():
    t = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match=r"Tensor index: expected ints, slices or integer arrays, got Tensor"):
        t[Tensor(np.array([0.0]))]
