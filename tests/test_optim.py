"""dismantle.SGD against torch.optim.SGD: 50 steps from identical weights, float64."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from tests.twins import torch_linear

TOL = dict(rtol=1e-10, atol=1e-10)  # float64; only the order of a few additions may differ
STEPS = 50


def make_problem(seed):
    """A Linear layer, a batch and targets; the loss is the mean squared error."""
    rng = np.random.default_rng(seed)
    layer = dm.Linear(4, 3, rng=rng)
    x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    return layer, x, y


def run_ours(layer, x, y, steps, **settings_):
    opt = dm.SGD(layer.parameters(), **settings_)
    for _ in range(steps):
        opt.zero_grad()
        z = layer(x)
        layer.backward((z - y) * (2 / z.size))  # d/dz of mean((z - y)^2)
        opt.step()
    return opt


def run_torch(layer, x, y, steps, **settings_):
    gold = torch_linear(layer)
    opt = torch.optim.SGD(gold.parameters(), **settings_)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(gold(tx), ty).backward()
        opt.step()
    return gold, opt


CONFIGS = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.05, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.9, dampening=0.3),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.01),
    "momentum+weight_decay": dict(lr=0.05, momentum=0.8, weight_decay=0.05),
    "dampening+weight_decay": dict(lr=0.05, momentum=0.5, dampening=0.5, weight_decay=0.1),
    "nesterov+weight_decay": dict(lr=0.03, momentum=0.95, weight_decay=0.02, nesterov=True),
    "zero_lr": dict(lr=0.0, momentum=0.9),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_fifty_steps_match_torch(name):
    layer, x, y = make_problem(seed=len(name))
    gold, _ = run_torch(layer, x, y, STEPS, **CONFIGS[name])
    run_ours(layer, x, y, STEPS, **CONFIGS[name])
    np.testing.assert_allclose(layer.weight.data, gold.weight.detach().numpy(), **TOL, err_msg="weight")
    np.testing.assert_allclose(layer.bias.data, gold.bias.detach().numpy(), **TOL, err_msg="bias")


@pytest.mark.parametrize("name", ["momentum", "dampening", "nesterov+weight_decay"])
def test_momentum_buffers_match_torch(name):
    layer, x, y = make_problem(seed=7)
    gold, topt = run_torch(layer, x, y, STEPS, **CONFIGS[name])
    opt = run_ours(layer, x, y, STEPS, **CONFIGS[name])
    for mine, p in zip(layer.parameters(), gold.parameters()):
        ours = opt.state[mine]["momentum_buffer"]
        np.testing.assert_allclose(ours, topt.state[p]["momentum_buffer"].numpy(), **TOL, err_msg="buffer")


@settings(max_examples=25, deadline=None)
@given(
    lr=st.floats(0.0, 0.2),
    momentum=st.floats(0.0, 0.99),
    dampening=st.floats(0.0, 1.0),
    weight_decay=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_settings_match_torch(lr, momentum, dampening, weight_decay, seed):
    cfg = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    layer, x, y = make_problem(seed)
    gold, _ = run_torch(layer, x, y, 20, **cfg)
    run_ours(layer, x, y, 20, **cfg)
    np.testing.assert_allclose(layer.weight.data, gold.weight.detach().numpy(), **TOL, err_msg="weight")
    np.testing.assert_allclose(layer.bias.data, gold.bias.detach().numpy(), **TOL, err_msg="bias")


def test_one_plain_step_by_hand():
    p = dm.Parameter(np.array([1.0, -2.0, 3.0]))
    p.grad[:] = [0.5, 0.5, -1.0]
    dm.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, [1.0 - 0.05, -2.0 - 0.05, 3.0 + 0.1])


def test_first_momentum_step_is_plain_then_buffer_grows():
    p = dm.Parameter(np.array([0.0]))
    opt = dm.SGD([p], lr=1.0, momentum=0.5)
    p.grad[:] = 1.0
    opt.step()  # b = g = 1
    assert p.data[0] == -1.0
    opt.step()  # b = 0.5 * 1 + 1 = 1.5
    assert p.data[0] == -2.5


def test_step_keeps_identity_and_leaves_grad_alone():
    layer, x, y = make_problem(seed=3)
    weight, data = layer.weight, layer.weight.data
    layer(x)
    layer.backward(np.ones((8, 3)))
    grad = layer.weight.grad.copy()
    dm.SGD(layer.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True).step()
    assert layer.weight is weight and layer.weight.data is data
    np.testing.assert_array_equal(layer.weight.grad, grad)


def test_zero_grad_clears_every_gradient():
    layer, x, _ = make_problem(seed=4)
    layer(x)
    layer.backward(np.ones((8, 3)))
    opt = dm.SGD(layer.parameters(), lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert not layer.weight.grad.any() and not layer.bias.grad.any()
    opt.zero_grad()  # torch's default
    assert layer.weight.grad is None and layer.bias.grad is None


def test_float32_stays_float32():
    p = dm.Parameter(np.ones(3, dtype=np.float32))
    p.grad[:] = 1.0
    opt = dm.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    opt.step()
    opt.step()
    assert p.data.dtype == np.float32 and opt.state[p]["momentum_buffer"].dtype == np.float32


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=-0.1),
        dict(lr=0.1, momentum=-0.5),
        dict(lr=0.1, weight_decay=-1e-4),
        dict(lr=0.1, nesterov=True),
        dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    ],
)
def test_bad_settings_raise_like_torch(kwargs):
    with pytest.raises(ValueError) as torch_error:
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as our_error:
        dm.SGD([dm.Parameter(np.zeros(1))], **kwargs)
    assert str(our_error.value) == str(torch_error.value)


@pytest.mark.parametrize(
    "params, kwargs, error, message",
    [
        ([], dict(lr=0.1), ValueError, "empty parameter list"),
        (None, dict(lr=0.1), TypeError, "NoneType"),
        ("P", dict(lr=0.1), TypeError, "a single Parameter"),
        ([np.zeros(2)], dict(lr=0.1), TypeError, "got ndarray"),
        ("PP", dict(lr=0.1), ValueError, "more than once"),
        ("L", dict(lr="0.1"), TypeError, "lr must be a real number, got str"),
        ("L", dict(lr=0.1, momentum=None), TypeError, "momentum must be a real number, got NoneType"),
        ("L", dict(lr=True), TypeError, "lr must be a real number, got bool"),
    ],
)
def test_bad_params_and_types(params, kwargs, error, message):
    p = dm.Parameter(np.zeros(2))
    params = {"P": p, "PP": [p, p], "L": [p]}.get(params, params) if isinstance(params, str) else params
    with pytest.raises(error, match=message):
        dm.SGD(params, **kwargs)


# --- Every shape (0-d too) and every option combination, step for step against torch ------------

SHAPES = {"0-d": (), "1-d": (3,), "2-d": (2, 3)}
OPTIONS = [
    dict(momentum=m, dampening=d, nesterov=n, weight_decay=wd, maximize=mx)
    for m in (0.0, 0.9)
    for d in (0.0, 0.3)
    for n in (False, True)
    for wd in (0.0, 0.1)
    for mx in (False, True)
    if not (n and (m == 0 or d != 0))  # torch refuses Nesterov without momentum or with dampening
]


def option_id(o):
    return ",".join(f"{k}={v}" for k, v in o.items() if v) or "plain"


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("options", OPTIONS, ids=[option_id(o) for o in OPTIONS])
def test_every_shape_and_option_combination_matches_torch(shape, options):
    rng = np.random.default_rng(len(shape))
    p = dm.Parameter(rng.normal(size=shape))
    tp = torch.tensor(p.data.copy(), requires_grad=True)
    kw = {k: v for k, v in options.items() if k != "maximize" or v}  # maximize only when used
    ours, theirs = dm.SGD([p], lr=0.1, **kw), torch.optim.SGD([tp], lr=0.1, **kw)
    for step in range(6):
        g = rng.normal(size=shape)
        p.grad[...] = g
        tp.grad = torch.tensor(g)
        ours.step()
        theirs.step()
        np.testing.assert_allclose(p.data, tp.detach().numpy(), **TOL, err_msg=f"step {step}")
        assert isinstance(p.data, np.ndarray) and p.data.shape == shape
        if options["momentum"]:
            buf = theirs.state[tp]["momentum_buffer"].numpy()
            np.testing.assert_allclose(ours.state[p]["momentum_buffer"], buf, **TOL, err_msg=f"buffer, step {step}")


def test_issue_example_zero_d_momentum_and_weight_decay():
    p = dm.Parameter(np.array(1.0))
    opt = dm.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(4):
        p.grad[...] = 1.0
        opt.step()
    tp = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(4):
        tp.grad = torch.tensor(1.0, dtype=torch.float64)
        topt.step()
    assert abs(float(p.data) - tp.item()) < 1e-12, (float(p.data), tp.item())  # torch: 0.0197...
