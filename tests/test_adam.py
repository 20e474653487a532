"""dismantle.Adam and AdamW against torch.optim.Adam and AdamW, float64, compared after every step.

Both optimizers walk the same objective from the same start. Ours gets its gradient from the
formula below, torch's from autograd on the same expression, so the two runs share nothing but
the starting point and the settings. After every step the parameters must agree to 1e-10.
"""

import itertools
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dismantle as dm
from tests.twins import torch_twin

TOL = {"rtol": 1e-10, "atol": 1e-10}
STEPS = 50
PAIRS = {"Adam": (dm.Adam, torch.optim.Adam), "AdamW": (dm.AdamW, torch.optim.AdamW)}


def objective_grad(theta, scale, centre):
    """Gradient of L = sum(scale * (theta - centre)^2) / 2 + sum(sin(3 theta)) / 3."""
    return scale * (theta - centre) + np.cos(3 * theta)


def torch_objective(theta, scale, centre):
    return (torch.from_numpy(scale) * (theta - torch.from_numpy(centre)) ** 2).sum() / 2 + torch.sin(3 * theta).sum() / 3


def race(ours_cls, torch_cls, shape, steps=STEPS, seed=0, **options):
    """Step both optimizers `steps` times; assert equal parameters after every step. Returns ours."""
    rng = np.random.default_rng(seed)
    start = rng.normal(size=shape)
    scale = rng.uniform(0.1, 10.0, size=shape)  # badly scaled on purpose: Adam evens it out
    centre = rng.normal(size=shape)
    p = dm.Parameter(start.copy())
    gold = torch.tensor(start.copy(), requires_grad=True)
    ours = ours_cls([p], **options)
    theirs = torch_cls([gold], foreach=False, **options)
    for t in range(1, steps + 1):
        ours.zero_grad()
        p.accumulate_grad(objective_grad(p.data, scale, centre))
        theirs.zero_grad()
        torch_objective(gold, scale, centre).backward()
        ours.step()
        theirs.step()
        np.testing.assert_allclose(p.data, gold.detach().numpy(), **TOL, err_msg=f"parameter after step {t}")
    state, mine = theirs.state[gold], ours.state[p]
    np.testing.assert_allclose(mine["exp_avg"], state["exp_avg"].numpy(), **TOL, err_msg="exp_avg")
    np.testing.assert_allclose(mine["exp_avg_sq"], state["exp_avg_sq"].numpy(), **TOL, err_msg="exp_avg_sq")
    if options.get("amsgrad"):
        np.testing.assert_allclose(mine["max_exp_avg_sq"], state["max_exp_avg_sq"].numpy(), **TOL,
                                   err_msg="max_exp_avg_sq")
    assert mine["step"] == int(state["step"]) == steps
    return ours


BETAS = [(0.9, 0.999), (0.5, 0.8)]
EPS = [1e-8, 1e-2]
WEIGHT_DECAY = [0.0, 0.1]
COMBOS = list(itertools.product(BETAS, EPS, WEIGHT_DECAY, [False, True], [False, True]))


@pytest.mark.parametrize("shape", [(), (5,), (3, 4)], ids=["0d", "1d", "2d"])
@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize(("betas", "eps", "weight_decay", "amsgrad", "maximize"), COMBOS)
def test_every_option_matches_torch_at_every_step(name, shape, betas, eps, weight_decay, amsgrad, maximize):
    race(*PAIRS[name], shape, lr=0.05, betas=betas, eps=eps, weight_decay=weight_decay,
         amsgrad=amsgrad, maximize=maximize)


@pytest.mark.parametrize("name", PAIRS)
def test_defaults_match_torch(name):
    ours = race(*PAIRS[name], (2, 3))
    gold = PAIRS[name][1]([torch.zeros(1)])
    assert tuple(ours.defaults[k] for k in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")) == tuple(
        gold.defaults[k] for k in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"))


@pytest.mark.parametrize("name", PAIRS)
def test_mlp_with_cross_entropy_matches_torch(name):
    """A small ReLU network trained on mini-batches: every parameter, after every step."""
    rng = np.random.default_rng(3)
    model = dm.Sequential(dm.Linear(6, 8, rng=rng), dm.ReLU(), dm.Linear(8, 3, rng=rng))
    gold = torch_twin(model)
    x, y = rng.normal(size=(40, 6)), rng.integers(0, 3, size=40)
    ours = PAIRS[name][0](model.parameters(), lr=0.01, weight_decay=0.05, amsgrad=True)
    theirs = PAIRS[name][1](gold.parameters(), lr=0.01, weight_decay=0.05, amsgrad=True, foreach=False)
    loss_fn = dm.CrossEntropyLoss()
    for t, (xb, yb) in enumerate(itertools.islice(itertools.cycle(dm.batches(x, y, 10)), STEPS)):
        loss = loss_fn(model(xb), yb)
        ours.zero_grad()
        model.backward(loss_fn.backward(), input_grad=False)
        ours.step()
        theirs.zero_grad()
        torch.nn.functional.cross_entropy(gold(torch.from_numpy(xb)), torch.from_numpy(yb)).backward()
        theirs.step()
        assert np.isfinite(loss)
        for mine, their in zip(model.parameters(), gold.parameters()):
            np.testing.assert_allclose(mine.data, their.detach().numpy(), **TOL, err_msg=f"step {t + 1}")


def test_grad_is_read_not_changed_and_parameters_stay_the_same_objects():
    p = dm.Parameter(np.array([1.0, 2.0]))
    data = p.data
    opt = dm.Adam([p], weight_decay=0.5, maximize=True)
    p.grad[:] = [0.25, -0.5]
    opt.step()
    np.testing.assert_array_equal(p.grad, [0.25, -0.5])
    assert p.data is data


def test_float32_parameters_stay_float32():
    p = dm.Parameter(np.ones((2, 2), dtype=np.float32))
    p.grad[:] = 1.0
    opt = dm.AdamW([p], amsgrad=True)
    opt.step()
    assert p.data.dtype == np.float32
    state = opt.state[p]
    assert all(state[k].dtype == np.float32 for k in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"))


# Planted faults: each is a plausible slip when writing Adam; the race must catch every one.
class NoBiasCorrection(dm.Adam):
    def step(self):
        for state in self.state.values():
            state["step"] = 10**6  # beta**t underflows to 0: both corrections 1 - beta**t become 1
        super().step()


class CoupledAdamW(dm.AdamW):
    decoupled = False  # AdamW that folds the decay into the gradient, i.e. plain Adam


class ForgetsTheMaximum(dm.Adam):
    def step(self):
        for group in self.param_groups:
            group["amsgrad"] = False  # the running max is never used
        super().step()


@pytest.mark.parametrize(("fake", "gold", "options"), [
    (NoBiasCorrection, torch.optim.Adam, {}),
    (CoupledAdamW, torch.optim.AdamW, {"weight_decay": 0.1}),
    (ForgetsTheMaximum, torch.optim.Adam, {"amsgrad": True}),
], ids=["no-bias-correction", "coupled-adamw", "amsgrad-ignored"])
def test_race_catches_a_wrong_variant(fake, gold, options):
    with pytest.raises(AssertionError):
        race(fake, gold, (4,), lr=0.05, **options)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
    name=st.sampled_from(sorted(PAIRS)),
    lr=st.floats(0.0, 0.2),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.0, 0.999),
    eps=st.sampled_from([0.0, 1e-12, 1e-8, 1e-3, 0.1]),
    weight_decay=st.floats(0.0, 0.5),
    amsgrad=st.booleans(),
    maximize=st.booleans(),
    steps=st.integers(20, 40),
    seed=st.integers(0, 2**16),
)
def test_random_shapes_and_settings_match_torch(shape, name, lr, beta1, beta2, eps, weight_decay, amsgrad,
                                                maximize, steps, seed):
    race(*PAIRS[name], shape, steps=steps, seed=seed, lr=lr, betas=(beta1, beta2), eps=eps,
         weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)


BAD = [
    ({"lr": -0.1}, "Invalid learning rate: -0.1"),
    ({"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
    ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ({"betas": (-0.1, 0.999)}, "Invalid beta parameter at index 0: -0.1"),
    ({"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ({"weight_decay": -0.01}, "Invalid weight_decay value: -0.01"),
]


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize(("options", "message"), BAD)
def test_bad_settings_raise_torchs_message(name, options, message):
    ours_cls, torch_cls = PAIRS[name]
    with pytest.raises(ValueError) as theirs:
        torch_cls([torch.zeros(2, requires_grad=True)], **options)
    assert str(theirs.value) == message  # the message we copy is really torch's
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        ours_cls([dm.Parameter(np.zeros(2))], **options)


@pytest.mark.parametrize("name", PAIRS)
def test_empty_parameter_list_raises_like_torch(name):
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        PAIRS[name][1]([])
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        PAIRS[name][0]([])


@pytest.mark.parametrize(("params", "options", "match"), [
    (None, {"lr": "0.1"}, r"Adam: lr must be a real number, got str"),
    (None, {"betas": 0.9}, r"Adam: betas must be a pair \(beta1, beta2\), got 0.9"),
    (None, {"betas": (0.9, None)}, r"Adam: betas\[1\] must be a real number, got NoneType"),
    (None, {"eps": True}, r"Adam: eps must be a real number, got bool"),
    (np.zeros(3), {}, r"Adam: params must be an iterable of Parameter, got a single ndarray"),
    ([np.zeros(3)], {}, r"Adam: can only optimize Parameter objects, got ndarray"),
])
def test_bad_types_raise_named_errors(params, options, match):
    params = [dm.Parameter(np.zeros(2))] if params is None else params
    with pytest.raises(TypeError, match=match):
        dm.Adam(params, **options)


def test_a_parameter_listed_twice_is_refused_by_name():
    p = dm.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="AdamW: a Parameter appears more than once"):
        dm.AdamW([p, p])


def test_repr_names_the_settings():
    opt = dm.AdamW([dm.Parameter(np.zeros(1))], lr=0.01)
    assert repr(opt) == ("AdamW(lr=0.01, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, "
                         "amsgrad=False, maximize=False)")
