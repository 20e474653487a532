"""The tiny autograd engine against torch autograd (float64) and against finite differences."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from dismantle.autograd import Tensor, cross_entropy

TOL = dict(rtol=1e-10, atol=1e-12)  # float64 on both sides; only the order of additions differs

# (name, our expression, torch's expression) over two same-shaped inputs a, b with b > 0
UNARY_BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("sub_const", lambda a, b: (a - 1.0) / (b + 1.0), lambda a, b: (a - 1.0) / (b + 1.0)),
    ("rsub", lambda a, b: 2.0 - a, lambda a, b: 2.0 - a),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / b, lambda a, b: a / b),
    ("rdiv", lambda a, b: 1.5 / b, lambda a, b: 1.5 / b),
    ("pow", lambda a, b: b**3, lambda a, b: b**3),
    ("neg", lambda a, b: -a, lambda a, b: -a),
    ("exp", lambda a, b: a.exp(), lambda a, b: a.exp()),
    ("log", lambda a, b: b.log(), lambda a, b: b.log()),
    ("relu", lambda a, b: a.relu(), lambda a, b: a.relu()),
    ("T", lambda a, b: a.T * b.T, lambda a, b: a.T * b.T),
    ("sum0", lambda a, b: (a * b).sum(axis=0), lambda a, b: (a * b).sum(dim=0)),
    ("mean1", lambda a, b: (a * b).mean(axis=1), lambda a, b: (a * b).mean(dim=1)),
    ("logsumexp", lambda a, b: a.logsumexp(), lambda a, b: a.logsumexp(dim=-1, keepdim=True)),
    ("log_softmax", lambda a, b: a.log_softmax(), lambda a, b: a.log_softmax(dim=-1)),
    ("index", lambda a, b: a[np.array([0, 0, -1])], lambda a, b: a[[0, 0, -1]]),
    ("broadcast", lambda a, b: a + b[0], lambda a, b: a + b[0]),
]


def both(rng, shape):
    a = rng.normal(size=shape)
    a[np.abs(a) < 1e-3] = 0.5  # keep finite differences away from ReLU's kink
    b = rng.uniform(0.5, 2.0, size=shape)
    return a, b


@pytest.mark.parametrize("name, ours, theirs", UNARY_BINARY, ids=[c[0] for c in UNARY_BINARY])
def test_each_operation_matches_torch_and_finite_differences(name, ours, theirs):
    rng = np.random.default_rng(0)
    a, b = both(rng, (3, 4))
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = ours(ta, tb)
    g = rng.normal(size=out.shape)
    out.backward(g)

    qa, qb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    gold = theirs(qa, qb)
    gold.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.data, gold.detach().numpy(), **TOL, err_msg=f"{name}: value")
    for ours_t, gold_t, label in ((ta, qa, "dL/da"), (tb, qb, "dL/db")):
        expected = np.zeros_like(a) if gold_t.grad is None else gold_t.grad.numpy()  # None: unused input
        np.testing.assert_allclose(ours_t.grad, expected, **TOL, err_msg=f"{name}: {label}")

    loss = lambda *_: float(np.sum(g * ours(Tensor(a), Tensor(b)).data))  # noqa: E731
    assert dm.gradcheck(loss, [a, b], [ta.grad, tb.grad])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 8), fin=st.integers(1, 8), hidden=st.integers(1, 8), k=st.integers(2, 8),
       seed=st.integers(0, 2**32 - 1))
def test_mlp_with_cross_entropy_matches_torch(n, fin, hidden, k, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s) for s in [(n, fin), (hidden, fin), (hidden,), (k, hidden), (k,)]]
    y = rng.integers(0, k, size=n)
    x, w1, b1, w2, b2 = (Tensor(v, requires_grad=True) for v in arrays)
    loss = cross_entropy((x @ w1.T + b1).relu() @ w2.T + b2, y)
    loss.backward()

    tx, tw1, tb1, tw2, tb2 = (torch.tensor(v, requires_grad=True) for v in arrays)
    gold = torch.nn.functional.cross_entropy(torch.relu(tx @ tw1.T + tb1) @ tw2.T + tb2, torch.from_numpy(y))
    gold.backward()
    np.testing.assert_allclose(loss.data, gold.item(), **TOL, err_msg="loss")
    for name, ours, theirs in zip(["x", "W1", "b1", "W2", "b2"], [x, w1, b1, w2, b2], [tx, tw1, tb1, tw2, tb2]):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), **TOL, err_msg=f"dL/d{name}")


def test_cross_entropy_gradient_is_p_minus_onehot_over_n():
    z = np.array([[0.1, 0.4, 0.2], [0.3, 0.9, 0.6]])
    y = np.array([2, 0])
    logits = Tensor(z, requires_grad=True)
    loss = cross_entropy(logits, y)
    loss.backward()
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loss.data, 1.28411, atol=5e-6)  # the seed article's worked example
    np.testing.assert_allclose(logits.grad, (p - np.eye(3)[y]) / 2, rtol=1e-12)


def test_huge_logits_stay_finite(recwarn):
    logits = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]), requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0.0 is exact enough
        loss = cross_entropy(logits, np.array([1, 2]))
        loss.backward()
    gold = torch.nn.functional.cross_entropy(torch.tensor(logits.data), torch.tensor([1, 2]))
    assert np.isfinite(loss.data) and np.isfinite(logits.grad).all()
    np.testing.assert_allclose(loss.data, gold.item(), rtol=1e-12)
    assert len(recwarn) == 0


def test_gradients_accumulate_like_torch():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    for _ in range(2):
        (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [4.0, -8.0])  # 2 * (2w): two backward calls add up
    w.zero_grad()
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])


def test_a_value_used_twice_gets_both_gradients():
    x = Tensor(np.array(3.0), requires_grad=True)
    (x * x + x).backward()  # d/dx (x^2 + x) = 2x + 1
    assert x.grad == 7.0


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: Tensor(np.ones((2, 3))).sum().backward(), ValueError, "does not depend on any tensor"),
        (lambda: (Tensor(np.ones(2), requires_grad=True) * 2.0).backward(), ValueError, r"scalar output, got shape \(2,\)"),
        (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))), ValueError, r"\(N, K\) @ \(K, M\), got \(2, 3\) @ \(2, 3\)"),
        (lambda: Tensor(np.ones(2, dtype=np.int64)), TypeError, "float32 or float64, got int64"),
        (lambda: Tensor(np.ones((2, 2))) @ Tensor(np.ones((2, 2), dtype=np.float32)), TypeError, "one dtype, got float64 @ float32"),
        (lambda: Tensor(np.ones(2)) ** Tensor(np.ones(2)), TypeError, "constant int or float exponent"),
        (lambda: cross_entropy(Tensor(np.ones((2, 3))), np.array([0, 3])), ValueError, r"labels in \[0, 2\]"),
        (lambda: cross_entropy(Tensor(np.ones((2, 3))), np.array([0.0, 1.0])), TypeError, "integer class labels"),
        (lambda: cross_entropy(Tensor(np.ones(3)), np.array([0])), ValueError, "2-D array"),
    ],
)
def test_bad_input_is_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- Edges (issue 10): deep graphs, x**0, infinite logits, empty means, NumPy on the left ---------

import warnings  # noqa: E402


def test_a_100000_step_chain_backpropagates():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + x  # y = 100001 x, one node deeper each step
    y.backward()
    assert x.grad == 100_001.0  # d/dx of (n + 1) x


def test_a_deep_product_chain_matches_the_formula():
    x = Tensor(np.array(2.0), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001**20_000, rtol=1e-10)  # chain rule, 20,000 factors


@pytest.mark.parametrize("at", [0.0, 1.5, -2.0])
def test_power_zero_has_zero_gradient_like_torch(at):
    x = Tensor(np.array([at]), requires_grad=True)
    (x**0).sum().backward()
    t = torch.tensor([at], dtype=torch.float64, requires_grad=True)
    (t**0).sum().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())  # torch: 0, not 0 * 0**-1 = NaN
    assert x.grad[0] == 0.0


def quietly(fn):
    """Run `fn` with every warning an error (the project's pytest setting, made explicit)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


ROWS = np.array([[-np.inf, -np.inf, -np.inf], [-np.inf, 0.5, 1.0], [1e308, -1e308, 0.0]])


@pytest.mark.parametrize("op", ["logsumexp", "log_softmax"])
def test_infinite_and_huge_logits_give_torchs_values_without_warnings(op):
    g = np.array([[1.0, -0.5, 2.0], [0.3, 1.0, -1.0], [0.5, 0.5, 1.0]])
    z = Tensor(ROWS.copy(), requires_grad=True)

    def run():
        out = getattr(z, op)()
        out.backward(g[:, :1] if op == "logsumexp" else g)
        return out

    out = quietly(run)
    t = torch.tensor(ROWS, requires_grad=True)
    gold = torch.logsumexp(t, -1, keepdim=True) if op == "logsumexp" else torch.log_softmax(t, -1)
    gold.backward(torch.tensor(g[:, :1] if op == "logsumexp" else g))
    np.testing.assert_array_equal(out.data, gold.detach().numpy())  # NaN where torch has NaN
    np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-12, atol=0, equal_nan=True)


def test_construction_accepts_inf_and_names_nan_with_its_index():
    assert Tensor(np.array([np.inf, -np.inf])).data[0] == np.inf  # the rule: NaN only is refused
    with pytest.raises(ValueError, match=r"Tensor data: expected numbers \(±inf allowed\), got NaN at index \(1,\)"):
        Tensor(np.array([0.0, np.nan]))


def test_infinite_arithmetic_follows_torch_without_warnings():
    a = Tensor(np.array([np.inf, 1.0]), requires_grad=True)
    out = quietly(lambda: a - a * 1.0)
    gold = torch.tensor([np.inf, 1.0]) - torch.tensor([np.inf, 1.0]) * 1.0
    np.testing.assert_array_equal(out.data, gold.numpy())  # [nan, 0], as IEEE and torch say


@pytest.mark.parametrize("shape, axis", [((0,), None), ((2, 0), 1), ((2, 0), 0)])
def test_an_empty_mean_is_nan_like_torch(shape, axis):
    x = Tensor(np.zeros(shape), requires_grad=True)
    out = quietly(lambda: x.mean(axis=axis))
    gold = torch.zeros(shape, dtype=torch.float64).mean() if axis is None else torch.zeros(shape, dtype=torch.float64).mean(axis)
    np.testing.assert_array_equal(out.data, gold.numpy())
    assert out.shape == tuple(gold.shape)


def test_numpy_array_on_the_left_gives_a_tensor_not_an_object_array():
    t = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = np.array([3.0, 4.0]) * t  # NumPy defers to Tensor.__rmul__
    assert isinstance(out, Tensor)
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, [3.0, 4.0])
    with pytest.raises(TypeError):
        np.multiply(np.ones(2), t)  # a ufunc never sees Tensors: an error, as in torch
