"""The Optimizer base, against torch.optim: parameter groups, skipped None gradients, refused steps."""

import numpy as np
import pytest
import torch

import dismantle as dm
from tests.twins import torch_twin

TOL = dict(rtol=1e-10, atol=1e-10)  # float64 on both sides; only the order of a few additions differs
OPTIMIZERS = {
    "SGD": (dm.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    "SGD-nesterov": (dm.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    "Adam": (dm.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.01, amsgrad=True)),
    "AdamW": (dm.AdamW, torch.optim.AdamW, dict(lr=0.01)),
}
GROUP_SETTINGS = {  # the second group (the biases) gets its own settings
    "SGD": dict(lr=0.2, weight_decay=0.0, momentum=0.5),
    "SGD-nesterov": dict(lr=0.01, weight_decay=0.3),
    "Adam": dict(lr=0.03, weight_decay=0.0, betas=(0.8, 0.99)),
    "AdamW": dict(lr=0.02, weight_decay=0.0, eps=1e-6),
}


def problem(seed=0):
    rng = np.random.default_rng(seed)
    model = dm.Sequential(dm.Linear(4, 6, rng=rng), dm.Tanh(), dm.Linear(6, 3, rng=rng))
    x, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    return model, torch_twin(model), x, y


def train_both(model, twin, opt, topt, x, y, steps):
    loss_fn = dm.CrossEntropyLoss()
    for step in range(steps):
        lo, hi = (5 * step) % 30, (5 * step) % 30 + 5
        opt.zero_grad()
        loss_fn(model(x[lo:hi]), y[lo:hi])
        model.backward(loss_fn.backward(), input_grad=False)
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(twin(torch.from_numpy(x[lo:hi])), torch.from_numpy(y[lo:hi])).backward()
        topt.step()
        for k, (p, q) in enumerate(zip(model.parameters(), twin.parameters())):
            np.testing.assert_allclose(p.data, q.detach().numpy(), **TOL, err_msg=f"parameter {k}, step {step + 1}")


def split(params):
    """Weights in one group, biases (no weight decay, their own settings) in another."""
    return [p for k, p in enumerate(params) if k % 2 == 0], [p for k, p in enumerate(params) if k % 2 == 1]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_param_groups_with_their_own_settings_match_torch_for_50_steps(name):
    ours_cls, torch_cls, settings = OPTIMIZERS[name]
    model, twin, x, y = problem(seed=1)
    (w, b), (tw, tb) = split(model.parameters()), split(list(twin.parameters()))
    opt = ours_cls([{"params": w}, {"params": b, **GROUP_SETTINGS[name]}], **settings)
    topt = torch_cls([{"params": tw}, {"params": tb, **GROUP_SETTINGS[name]}], foreach=False, **settings)
    for ours, theirs in zip(opt.param_groups, topt.param_groups):
        assert {k: ours[k] for k in ours if k != "params"} == {k: theirs[k] for k in ours if k != "params"}
    train_both(model, twin, opt, topt, x, y, steps=50)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_add_param_group_matches_torch(name):
    ours_cls, torch_cls, settings = OPTIMIZERS[name]
    model, twin, x, y = problem(seed=2)
    (w, b), (tw, tb) = split(model.parameters()), split(list(twin.parameters()))
    opt, topt = ours_cls(w, **settings), torch_cls(tw, foreach=False, **settings)
    train_both(model, twin, opt, topt, x, y, steps=5)  # the biases are frozen for five steps
    opt.add_param_group({"params": b, **GROUP_SETTINGS[name]})
    topt.add_param_group({"params": tb, **GROUP_SETTINGS[name]})
    train_both(model, twin, opt, topt, x, y, steps=45)
    assert list(opt.param_groups[0]) == ["params", *opt.defaults]  # "params", then "lr" first of all


def test_add_param_group_refuses_like_torch():
    p, q = dm.Parameter(np.zeros(2)), dm.Parameter(np.zeros(2))
    opt = dm.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="^some parameters appear in more than one parameter group$"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(TypeError, match="Please use a list instead"):
        opt.add_param_group({"params": {q}})
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        opt.add_param_group({"params": [q], "lr": -1})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([q])
    assert len(opt.param_groups) == 1  # nothing added by a refused call
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        dm.optim.Optimizer([p], {"lr": dm.optim.required})


# --- Gradients that are None, or of the wrong size ---------------------------------------------------


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_parameter_whose_grad_is_none_is_skipped_like_torch(name):
    ours_cls, torch_cls, settings = OPTIMIZERS[name]
    rng = np.random.default_rng(3)
    start = [rng.normal(size=3), rng.normal(size=2)]
    ps = [dm.Parameter(s) for s in start]
    ts = [torch.tensor(s, requires_grad=True) for s in start]
    opt, topt = ours_cls(ps, **settings), torch_cls(ts, foreach=False, **settings)
    for step in range(6):
        opt.zero_grad()
        topt.zero_grad()
        g = rng.normal(size=3)
        ps[0].grad, ts[0].grad = g.copy(), torch.from_numpy(g.copy())
        if step % 2:  # the second parameter gets a gradient every other step only
            h = rng.normal(size=2)
            ps[1].grad, ts[1].grad = h.copy(), torch.from_numpy(h.copy())
        opt.step()
        topt.step()
        for k, (p, t) in enumerate(zip(ps, ts)):
            np.testing.assert_allclose(p.data, t.detach().numpy(), **TOL, err_msg=f"parameter {k}, step {step}")
    opt.zero_grad()
    assert all(p.grad is None for p in ps)
    opt.step()  # every grad None: nothing moves, as in torch
    np.testing.assert_allclose(ps[0].data, ts[0].detach().numpy(), **TOL)


def test_a_grad_of_another_size_is_refused_when_assigned_like_torch():
    p, t = dm.Parameter(np.zeros(3)), torch.zeros(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient of size '.1.' to a tensor of size '.3.'"):
        t.grad = torch.ones(1, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"attempting to assign a gradient of shape \(1,\) to a parameter of shape \(3,\)"):
        p.grad = np.ones(1)
    with pytest.raises(TypeError, match="attempting to assign a gradient with dtype float32 to a parameter with dtype"):
        p.grad = np.ones(3, dtype=np.float32)
    with pytest.raises(TypeError, match="assigned grad expected to be a NumPy ndarray or None but got grad of type list"):
        p.grad = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(p.grad, np.zeros(3))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_refuses_a_grad_that_no_longer_fits_and_changes_nothing(name):
    ours_cls, _, settings = OPTIMIZERS[name]
    good, bad = dm.Parameter(np.arange(3.0)), dm.Parameter(np.arange(3.0))
    opt = ours_cls([good, bad], **settings)
    good.grad[:], bad.grad[:] = 1.0, 1.0
    opt.step()
    bad.grad.shape = (1, 3)  # changed in place, behind the setter's back
    before = ([good.data.copy(), bad.data.copy()], opt.state_dict())
    with pytest.raises(ValueError, match=r"has a grad of shape \(1, 3\), dtype float64; nothing was changed"):
        opt.step()
    np.testing.assert_array_equal(good.data, before[0][0], err_msg="the good parameter moved")
    np.testing.assert_array_equal(bad.data, before[0][1])
    after = opt.state_dict()
    for i, state in before[1]["state"].items():
        for key, value in state.items():
            np.testing.assert_array_equal(after["state"][i][key], value, err_msg=f"state {key} changed")
