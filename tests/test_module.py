"""Module, Parameter and Sequential: chaining, accumulation, zero_grad and clear errors."""

import numpy as np
import pytest
import torch

import dismantle as dm
from tests.twins import torch_twin

TOL = dict(rtol=1e-12, atol=1e-12)  # float64 on both sides: only summation order differs


def linear_stack(sizes, seed):
    rng = np.random.default_rng(seed)
    return dm.Sequential(*(dm.Linear(a, b, rng=rng) for a, b in zip(sizes, sizes[1:])))


def run_both(net, x, g):
    gold = torch_twin(net)
    tx = torch.tensor(x, requires_grad=True)
    tz = gold(tx)
    tz.backward(torch.from_numpy(g))
    z = net(x)
    dx = net.backward(g)
    return (z, dx), (tz.detach().numpy(), tx.grad.numpy()), gold


def test_sequential_matches_torch_output_input_grad_and_every_parameter():
    net = linear_stack([4, 5, 3, 2], seed=0)
    rng = np.random.default_rng(1)
    x, g = rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    (z, dx), (tz, tdx), gold = run_both(net, x, g)
    np.testing.assert_allclose(z, tz, **TOL, err_msg="output")
    np.testing.assert_allclose(dx, tdx, **TOL, err_msg="dL/dx")
    ours, theirs = net.parameters(), list(gold.parameters())
    assert len(ours) == len(theirs) == 6
    for k, (p, q) in enumerate(zip(ours, theirs)):
        assert p.shape == tuple(q.shape), f"parameter {k} shape"
        np.testing.assert_allclose(p.grad, q.grad.numpy(), **TOL, err_msg=f"parameter {k} grad")


def test_sequential_gradients_pass_gradcheck():
    net = linear_stack([3, 4, 2], seed=2)
    rng = np.random.default_rng(3)
    x, g = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    net(x)
    dx = net.backward(g)
    loss = lambda *_: float(np.sum(g * net(x)))  # noqa: E731  L = sum(g * z), so dL/dz = g
    params = net.parameters()
    assert dm.gradcheck(loss, [x] + [p.data for p in params], [dx] + [p.grad for p in params])


def test_two_backwards_double_the_gradients_like_torch():
    net = linear_stack([3, 4, 2], seed=4)
    rng = np.random.default_rng(5)
    x, g = rng.normal(size=(2, 3)), rng.normal(size=(2, 2))
    gold = torch_twin(net)
    tz = gold(torch.from_numpy(x))
    tz.backward(torch.from_numpy(g), retain_graph=True)
    tz.backward(torch.from_numpy(g))
    net(x)
    net.backward(g)
    once = [p.grad.copy() for p in net.parameters()]
    net(x)  # torch needed retain_graph=True; our modules need a second forward
    net.backward(g)
    for k, (p, q, first) in enumerate(zip(net.parameters(), gold.parameters(), once)):
        np.testing.assert_allclose(p.grad, 2 * first, rtol=1e-15, err_msg=f"parameter {k}: not doubled")
        np.testing.assert_allclose(p.grad, q.grad.numpy(), **TOL, err_msg=f"parameter {k}: differs from torch")


def test_zero_grad_sets_none_by_default_like_torch_and_backward_then_sets_the_gradient():
    net = linear_stack([3, 4, 2], seed=6)
    gold = torch_twin(net)
    x, g = np.ones((2, 3)), np.ones((2, 2))
    net(x)
    net.backward(g)
    net.zero_grad()
    gold.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert all(q.grad is None for q in gold.parameters())
    net(x)
    net.backward(g)
    gold(torch.from_numpy(x)).backward(torch.from_numpy(g))
    for k, (p, q) in enumerate(zip(net.parameters(), gold.parameters())):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), **TOL, err_msg=f"parameter {k}")


def test_zero_grad_set_to_none_false_clears_every_parameter_in_place():
    net = linear_stack([3, 4, 2], seed=6)
    net(np.ones((2, 3)))
    net.backward(np.ones((2, 2)))
    grads = [p.grad for p in net.parameters()]
    assert all(g.any() for g in grads)
    net.zero_grad(set_to_none=False)
    for k, (p, g) in enumerate(zip(net.parameters(), grads)):
        assert p.grad is g, f"parameter {k}: zero_grad must reset in place, not rebind"
        assert not p.grad.any(), f"parameter {k}: not zeroed"


def test_nested_sequential_flattens_parameters_and_chains_backward():
    inner = linear_stack([3, 4], seed=7)
    outer = dm.Sequential(inner, dm.Linear(4, 2, rng=np.random.default_rng(8)))
    flat = dm.Sequential(inner[0], outer[1])
    assert [id(p) for p in outer.parameters()] == [id(p) for p in flat.parameters()]
    x, g = np.ones((2, 3)), np.ones((2, 2))
    np.testing.assert_array_equal(outer(x), flat(x))
    from_outer = outer.backward(g)
    flat(x)  # the modules are shared: outer's backward used their caches up
    np.testing.assert_array_equal(from_outer, flat.backward(g))


def test_backward_before_forward_is_a_clear_error():
    net = linear_stack([3, 2], seed=9)
    with pytest.raises(ValueError, match=r"Sequential.backward\(\) called before forward\(\)"):
        net.backward(np.ones((1, 2)))


@pytest.mark.parametrize(
    "g, error, message",
    [
        (np.ones((4, 3)), ValueError, r"expected shape \(4, 2\), got \(4, 3\)"),
        (np.ones((2, 2)), ValueError, r"expected shape \(4, 2\), got \(2, 2\)"),
        (np.ones(2), ValueError, r"expected shape \(4, 2\), got \(2,\)"),
        (np.ones((4, 2), dtype=np.int64), TypeError, r"expected dtype float32 or float64, got int64"),
        ([[1.0, 1.0]], TypeError, r"expected a NumPy ndarray, got list"),
    ],
)
def test_grad_output_must_match_the_forward_output(g, error, message):
    net = linear_stack([3, 5, 2], seed=10)
    net(np.ones((4, 3)))
    before = [p.grad.copy() for p in net.parameters()]
    with pytest.raises(error, match=message):
        net.backward(g)
    for k, (p, b) in enumerate(zip(net.parameters(), before)):
        np.testing.assert_array_equal(p.grad, b, err_msg=f"parameter {k} touched by a rejected backward")


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="expected Module instances, got function"):
        dm.Sequential(dm.Linear(2, 2), lambda x: x)


def test_base_module_is_abstract_and_parameterless():
    m = dm.Module()
    assert m.parameters() == []
    m.zero_grad()  # nothing to reset, and no error
    with pytest.raises(NotImplementedError, match="Module does not implement forward"):
        m(np.ones(1))
    with pytest.raises(NotImplementedError, match="Module does not implement backward"):
        m.backward(np.ones(1))


def test_parameter_grad_shape_and_dtype_follow_data():
    p = dm.Parameter(np.ones((2, 3), dtype=np.float32))
    assert p.shape == (2, 3) and p.grad.shape == (2, 3) and p.grad.dtype == np.float32
    p.grad += 1.0
    p.zero_grad()
    assert not p.grad.any()


def test_repr_lists_the_modules():
    net = linear_stack([3, 4, 2], seed=11)
    assert repr(net) == "Sequential(\n  Linear(in_features=3, out_features=4),\n  Linear(in_features=4, out_features=2)\n)"


def test_a_shared_parameter_is_listed_once_like_torch():
    shared = dm.Linear(3, 3, rng=np.random.default_rng(0))
    net = dm.Sequential(shared, dm.ReLU(), shared, dm.Linear(3, 2, rng=np.random.default_rng(1)))
    gold_shared = torch.nn.Linear(3, 3)
    gold = torch.nn.Sequential(gold_shared, torch.nn.ReLU(), gold_shared, torch.nn.Linear(3, 2))
    assert len(net.parameters()) == len(list(gold.parameters())) == 4
    assert net.parameters()[0] is shared.weight


@pytest.mark.parametrize("first", ["linear", "relu"])
def test_input_grad_false_skips_dx_and_leaves_parameter_grads_unchanged(first):
    rng = np.random.default_rng(7)
    head = dm.Linear(3, 4, rng=rng) if first == "linear" else dm.ReLU()
    width = 4 if first == "linear" else 3
    net = dm.Sequential(head, dm.Linear(width, 2, rng=rng))
    x, g = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    net(x)
    net.backward(g)
    full = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    net(x)
    assert net.backward(g, input_grad=False) is None
    for p, expected in zip(net.parameters(), full):
        np.testing.assert_array_equal(p.grad, expected)  # the same products, so bit for bit
    empty = dm.Sequential()
    empty(g)
    assert empty.backward(g, input_grad=False) is None
    empty(g)  # one backward per forward, even for an empty chain
    np.testing.assert_array_equal(empty.backward(g), g)


# --- Parameter from any float array-like; backward once per forward (issue 10) -------------------


@pytest.mark.parametrize("data, dtype", [([1.0, 2.0], np.float64), ((1, 2), np.float64), (3.0, np.float64),
                                         (np.array([1, 2], dtype=np.int32), np.float64),
                                         (np.ones(2, dtype=np.float32), np.float32)])
def test_parameter_accepts_what_asarray_accepts_as_float(data, dtype):
    p = dm.Parameter(data)
    np.testing.assert_array_equal(p.data, np.asarray(data, dtype=dtype))
    assert p.data.dtype == dtype and p.grad.shape == p.data.shape


@pytest.mark.parametrize("data, got", [(None, "NoneType"), ("abc", "str"), ([1.0, "a"], "<U32"),
                                       (np.array([1 + 2j]), "complex128"), ([[1.0], [2.0, 3.0]], "a ragged")])
def test_parameter_rejects_what_is_not_numbers_naming_parameter(data, got):
    with pytest.raises(TypeError, match=rf"Parameter: expected real numbers \(an array-like of floats\), got {got}"):
        dm.Parameter(data)


def test_backward_twice_after_one_forward_is_an_error_like_torch():
    net = linear_stack([3, 4, 2], seed=4)
    x, g = np.ones((2, 3)), np.ones((2, 2))
    net(x)
    net.backward(g)
    once = [p.grad.copy() for p in net.parameters()]
    with pytest.raises(ValueError, match=r"Sequential.backward\(\) called twice after one forward\(\)"):
        net.backward(g)
    for p, first in zip(net.parameters(), once):
        np.testing.assert_array_equal(p.grad, first)  # nothing was added by the refused call
    net(x)
    net.backward(g)  # a new forward allows a new backward, which accumulates
    for p, first in zip(net.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * first, rtol=1e-15)


@pytest.mark.parametrize("module", [lambda: dm.Linear(3, 3, rng=0), dm.ReLU, dm.Sigmoid, dm.Tanh, dm.Softmax])
def test_every_module_refuses_a_second_backward(module):
    m = module()
    m(np.ones((2, 3)))
    m.backward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=rf"{type(m).__name__}.backward\(\) called twice after one forward\(\)"):
        m.backward(np.ones((2, 3)))


def test_a_refused_backward_keeps_the_cache():
    layer = dm.Linear(3, 2, rng=0)
    layer(np.ones((4, 3)))
    with pytest.raises(ValueError, match="expected shape"):
        layer.backward(np.ones((4, 3)))  # wrong shape: nothing is used up
    layer.backward(np.ones((4, 2)))


# --- The registry: parameters, buffers and children by assignment, with torch's names -------------


class TwoLayers(dm.Module):
    """A module written the torch way: children and a buffer registered by assignment."""

    def __init__(self):
        super().__init__()
        self.first = dm.Linear(3, 4, rng=0)
        self.act = dm.ReLU()
        self.last = dm.Linear(4, 2, rng=1)
        self.scale = dm.Parameter(np.ones(2))
        self.register_buffer("seen", np.zeros(2))
        self.register_buffer("scratch", np.zeros(1), persistent=False)


class TorchTwoLayers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.first, self.act, self.last = torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
        self.scale = torch.nn.Parameter(torch.ones(2))
        self.register_buffer("seen", torch.zeros(2))
        self.register_buffer("scratch", torch.zeros(1), persistent=False)


def test_named_parameters_buffers_and_modules_follow_torchs_names_and_order():
    ours, theirs = TwoLayers(), TorchTwoLayers()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [type(m).__name__ for m in ours.children()] == ["Linear", "ReLU", "Linear"]
    assert ours.parameters()[0] is ours.scale and ours.buffers()[0] is ours.seen  # own ones first, as torch
    seq, tseq = linear_stack([3, 4, 2], seed=0), torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    assert [n for n, _ in seq.named_parameters()] == [n for n, _ in tseq.named_parameters()] == [
        "0.weight", "0.bias", "1.weight", "1.bias"]


def test_reassigning_and_deleting_keep_the_registry_in_step():
    m = TwoLayers()
    m.scale = None  # a registered parameter may become None, as in torch
    assert "scale" not in dict(m.named_parameters())
    with pytest.raises(TypeError, match=r"cannot assign 'ndarray' as parameter 'scale' \(Parameter or None expected\)"):
        m.scale = np.ones(2)
    m.seen = np.ones(2)  # a buffer stays a buffer when reassigned
    assert dict(m.named_buffers())["seen"] is m.seen
    with pytest.raises(TypeError, match=r"cannot assign 'list' as buffer 'seen'"):
        m.seen = [1.0, 2.0]
    del m.last
    assert [n for n, _ in m.named_parameters()] == ["first.weight", "first.bias"]
    assert not hasattr(m, "last")


def test_a_module_without_init_gets_torchs_message():
    class Forgot(dm.Module):
        def __init__(self):
            self.w = dm.Parameter(np.ones(1))

    with pytest.raises(AttributeError, match=r"^cannot assign parameters before Module.__init__\(\) call$"):
        Forgot()

    class ForgotButNoParameters(dm.Module):
        def __init__(self):
            self.k = 3

        def forward(self, x):
            return x

    with pytest.raises(AttributeError, match=r"Module.__init__\(\) was not called"):
        ForgotButNoParameters()(np.ones(1))


def test_train_and_eval_set_training_on_every_descendant_like_torch():
    ours, theirs = TwoLayers(), TorchTwoLayers()
    assert ours.training and all(m.training for m in ours.modules())
    assert ours.eval() is ours and theirs.eval() is theirs
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()] == [False] * 4
    ours.first.train()
    assert [m.training for m in ours.modules()] == [False, True, False, False]
    with pytest.raises(ValueError, match="^training mode is expected to be boolean$"):
        ours.train(1)
    with pytest.raises(ValueError, match="^training mode is expected to be boolean$"):
        theirs.train(1)


def test_linear_without_bias_matches_torch():
    rng = np.random.default_rng(3)
    layer = dm.Linear(3, 2, bias=False, rng=rng)
    gold = torch.nn.Linear(3, 2, bias=False, dtype=torch.float64)
    with torch.no_grad():
        gold.weight.copy_(torch.from_numpy(layer.weight.data))
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    x, g = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    tx = torch.tensor(x, requires_grad=True)
    tz = gold(tx)
    tz.backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer(x), tz.detach().numpy(), **TOL, err_msg="output")
    np.testing.assert_allclose(layer.backward(g), tx.grad.numpy(), **TOL, err_msg="dL/dx")
    np.testing.assert_allclose(layer.weight.grad, gold.weight.grad.numpy(), **TOL, err_msg="dL/dW")
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"


def test_reset_parameters_draws_within_torchs_kaiming_bound():
    layer = dm.Linear(50, 40, rng=0)
    gold = torch.nn.Linear(50, 40)
    bound = gold.weight.detach().abs().max().item()  # torch: kaiming_uniform_(a=sqrt(5)), bound 1/sqrt(50)
    k = 1 / np.sqrt(50)
    assert bound <= k and np.abs(layer.weight.data).max() <= k and np.abs(layer.bias.data).max() <= k
    before = layer.weight.data.copy()
    layer.reset_parameters(rng=1)
    assert not np.array_equal(before, layer.weight.data)
    again = dm.Linear(50, 40, rng=1)
    np.testing.assert_array_equal(layer.weight.data, again.weight.data)  # same draws, same order


# --- The saved-values stack: a module used twice accumulates both uses, as torch does -------------


def tied_pair(seed):
    rng = np.random.default_rng(seed)
    shared = dm.Linear(3, 3, rng=rng)
    net = dm.Sequential(shared, dm.ReLU(), shared)
    gold_shared = torch_twin(shared)
    return net, shared, torch.nn.Sequential(gold_shared, torch.nn.ReLU(), gold_shared), gold_shared


def test_a_module_used_twice_accumulates_both_uses_like_torch():
    net, shared, gold, gold_shared = tied_pair(seed=12)
    rng = np.random.default_rng(13)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    tx = torch.tensor(x, requires_grad=True)
    tz = gold(tx)
    tz.backward(torch.from_numpy(g))
    np.testing.assert_allclose(net(x), tz.detach().numpy(), **TOL, err_msg="output")
    np.testing.assert_allclose(net.backward(g), tx.grad.numpy(), **TOL, err_msg="dL/dx")
    np.testing.assert_allclose(shared.weight.grad, gold_shared.weight.grad.numpy(), **TOL, err_msg="dL/dW, both uses")
    np.testing.assert_allclose(shared.bias.grad, gold_shared.bias.grad.numpy(), **TOL, err_msg="dL/db, both uses")
    with pytest.raises(ValueError, match=r"Sequential.backward\(\) called twice after one forward\(\)"):
        net.backward(g)


def test_a_module_used_twice_passes_gradcheck():
    net, shared, _, _ = tied_pair(seed=14)
    rng = np.random.default_rng(15)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    net(x)
    dx = net.backward(g)
    loss = lambda *_: float(np.sum(g * net(x)))  # noqa: E731
    assert dm.gradcheck(loss, [x, shared.weight.data, shared.bias.data], [dx, shared.weight.grad, shared.bias.grad])


def test_no_grad_saves_nothing_and_keeps_an_earlier_graph():
    net = linear_stack([3, 4, 2], seed=16)
    x, g = np.ones((2, 3)), np.ones((2, 2))
    net(x)
    with dm.no_grad():
        assert not dm.is_grad_enabled()
        net(2 * x)  # scoring in between, as torch allows under no_grad
    assert dm.is_grad_enabled()
    net.backward(g)
    expected = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    net(x)
    net.backward(g)
    for p, e in zip(net.parameters(), expected):
        np.testing.assert_array_equal(p.grad, e)  # the graph of x, not of 2x
    with dm.no_grad():
        net(x)
    with pytest.raises(ValueError, match=r"Sequential.backward\(\) called twice after one forward\(\)"):
        net.backward(g)


def test_a_new_top_level_forward_starts_a_new_graph():
    net = linear_stack([3, 4, 2], seed=17)
    for _ in range(5):
        net(np.ones((2, 3)))  # forwards that no backward follows: nothing piles up
    assert all(len(m._saved) == 1 for m in net.modules())
    with pytest.raises(ValueError, match="Linear input"):
        net(np.ones((2, 5)))  # a refused forward keeps the graph it found
    assert all(len(m._saved) == 1 for m in net.modules())
    net.backward(np.ones((2, 2)))
