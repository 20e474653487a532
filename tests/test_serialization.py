"""state_dict, load_state_dict, optimizer state and `.npz` files: torch's keys, exact resumes, nothing lost."""

import numpy as np
import pytest
import torch

import dismantle as dm
from tests.twins import torch_twin

TOL = dict(rtol=1e-10, atol=1e-10)  # float64 on both sides; only the order of a few additions differs
OPTIMIZERS = {
    "SGD": (dm.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "Adam": (dm.Adam, torch.optim.Adam, dict(lr=0.01, weight_decay=0.01, amsgrad=True)),
    "AdamW": (dm.AdamW, torch.optim.AdamW, dict(lr=0.01)),
}


def model(seed):
    rng = np.random.default_rng(seed)
    return dm.Sequential(dm.Linear(4, 6, rng=rng), dm.ReLU(), dm.Linear(6, 3, rng=rng))


def data():
    rng = np.random.default_rng(99)
    return rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)


def train(net, opt, steps, start=0):
    x, y = data()
    loss_fn = dm.CrossEntropyLoss()
    for step in range(start, start + steps):
        lo = (8 * step) % 40
        opt.zero_grad()
        loss_fn(net(x[lo:lo + 8]), y[lo:lo + 8])
        net.backward(loss_fn.backward(), input_grad=False)
        opt.step()


def train_torch(net, opt, steps):
    x, y = data()
    for step in range(steps):
        lo = (8 * step) % 40
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(x[lo:lo + 8])), torch.from_numpy(y[lo:lo + 8])).backward()
        opt.step()


def test_state_dict_has_torchs_keys_order_and_shapes():
    ours = model(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for (k, v), tv in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert v.shape == tuple(tv.shape), k
    snapshot = ours.state_dict()
    ours[0].weight.data += 1.0
    assert not np.array_equal(snapshot["0.weight"], ours[0].weight.data)  # a copy, not a view


def test_a_torch_state_dict_loads_into_ours_and_gives_torchs_outputs_and_back():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3)).double()
    ours = model(1)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = data()[0]
    np.testing.assert_allclose(ours(x), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    back = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3)).double()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in model(2).state_dict().items()})
    np.testing.assert_allclose(back(torch.from_numpy(x)).detach().numpy(), model(2)(x), rtol=1e-12, atol=1e-12)


def torch_error(theirs, state):
    with pytest.raises(RuntimeError) as error:
        theirs.load_state_dict(state)
    return str(error.value)


@pytest.mark.parametrize("fault", ["renamed", "missing", "extra"])
def test_missing_and_unexpected_keys_get_torchs_message_and_change_nothing(fault):
    ours, theirs = model(3), torch_twin(model(3))
    state = model(4).state_dict()
    if fault == "renamed":
        state["0.weights"] = state.pop("0.weight")  # the planted fault: a key renamed
    elif fault == "missing":
        del state["2.bias"]
    else:
        state["3.weight"] = np.zeros(1)
    before = ours.state_dict()
    with pytest.raises(ValueError) as error:
        ours.load_state_dict(state)
    assert str(error.value) == torch_error(theirs, {k: torch.from_numpy(v) for k, v in state.items()})
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=f"{k} changed by a refused load")
    result = ours.load_state_dict(state, strict=False)
    assert result == theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)


def test_a_mis_shaped_value_gets_torchs_message_up_to_the_shape_spelling():
    ours, theirs = model(5), torch_twin(model(5))
    state = model(6).state_dict()
    state["2.weight"] = np.zeros((3, 5))
    before = ours.state_dict()
    with pytest.raises(ValueError) as error:
        ours.load_state_dict(state)
    expected = torch_error(theirs, {k: torch.from_numpy(v) for k, v in state.items()})
    assert str(error.value) == expected.replace("torch.Size([3, 5])", "(3, 5)").replace("torch.Size([3, 6])", "(3, 6)")
    assert all(np.array_equal(v, before[k]) for k, v in ours.state_dict().items())
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        ours.load_state_dict([("0.weight", 1)])


# --- Optimizers: save after 10 steps, resume in fresh objects, equal to 20 straight steps -----------


def resumed(name, tmp_path, plant=None):
    ours_cls, _, settings = OPTIMIZERS[name]
    net = model(7)
    opt = ours_cls(net.parameters(), **settings)
    train(net, opt, 10)
    path = tmp_path / "run.npz"
    dm.save({"model": net.state_dict(), "optimizer": opt.state_dict()}, path)
    checkpoint = dm.load(path)
    if plant:
        plant(checkpoint["optimizer"])
    fresh = model(8)
    fresh_opt = ours_cls(fresh.parameters(), **settings)
    fresh.load_state_dict(checkpoint["model"])
    fresh_opt.load_state_dict(checkpoint["optimizer"])
    train(fresh, fresh_opt, 10, start=10)
    return fresh


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_resume_from_a_file_equals_twenty_straight_steps_bit_for_bit_and_torch(name, tmp_path):
    ours_cls, torch_cls, settings = OPTIMIZERS[name]
    straight = model(7)
    train(straight, ours_cls(straight.parameters(), **settings), 20)
    fresh = resumed(name, tmp_path)
    for (k, a), b in zip(fresh.state_dict().items(), straight.state_dict().values()):
        assert np.array_equal(a, b), f"{k}: the resumed run differs from the straight run"
    twin = torch_twin(model(7))
    train_torch(twin, torch_cls(twin.parameters(), foreach=False, **settings), 20)
    for (k, a), b in zip(fresh.state_dict().items(), twin.state_dict().values()):
        np.testing.assert_allclose(a, b.numpy(), **TOL, err_msg=k)


def forget_step(state):
    for s in state["state"].values():
        s["step"] = 0


def forget_moment(state):
    for s in state["state"].values():  # a loader that leaves the buffers as a fresh optimizer has them
        for key in ("exp_avg_sq", "momentum_buffer"):
            if key in s:
                s[key] = np.zeros_like(s[key])


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("plant", [forget_step, forget_moment], ids=["step counter not saved", "moment not restored"])
def test_the_resume_test_catches_a_planted_fault(name, plant, tmp_path):
    if name == "SGD" and plant is forget_step:
        pytest.skip("SGD keeps no step counter")
    straight = model(7)
    train(straight, OPTIMIZERS[name][0](straight.parameters(), **OPTIMIZERS[name][2]), 20)
    fresh = resumed(name, tmp_path, plant)
    assert not all(np.array_equal(a, b) for a, b in zip(fresh.state_dict().values(), straight.state_dict().values()))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_state_dict_matches_torchs_layout(name):
    ours_cls, torch_cls, settings = OPTIMIZERS[name]
    net = model(9)
    twin = torch_twin(net)
    opt, topt = ours_cls(net.parameters(), **settings), torch_cls(twin.parameters(), foreach=False, **settings)
    train(net, opt, 3)
    train_torch(twin, topt, 3)
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert ours["param_groups"][0]["params"] == theirs["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert {k: v for k, v in ours["param_groups"][0].items()} == {k: theirs["param_groups"][0][k]
                                                                    for k in ours["param_groups"][0]}
    assert list(ours["state"]) == list(theirs["state"])
    for i in ours["state"]:
        assert set(ours["state"][i]) == set(theirs["state"][i])
        for key, value in ours["state"][i].items():
            np.testing.assert_allclose(value, theirs["state"][i][key].numpy(), **TOL, err_msg=f"{i}.{key}")


@pytest.mark.parametrize("break_it, message", [
    (lambda s: s["param_groups"].append({"params": []}), "different number of parameter groups"),
    (lambda s: s["param_groups"][0]["params"].pop(), "doesn't match the size of optimizer's group"),
    (lambda s: s["state"][0].update(exp_avg=np.zeros(2)), r"exp_avg must be a float array of the parameter's shape"),
    (lambda s: s["state"][0].update(step=-1), "step must be a non-negative whole number"),
    (lambda s: s["state"][0].update(velocity=np.zeros(1)), "unexpected key 'velocity'"),
    (lambda s: s["state"][0].pop("exp_avg_sq"), r"missing \['exp_avg_sq'\]"),
    (lambda s: s["param_groups"][0].update(lr=-1.0), "Invalid learning rate: -1.0"),
])
def test_a_refused_optimizer_load_changes_nothing(break_it, message):
    net = model(10)
    opt = dm.Adam(net.parameters(), lr=0.01)
    train(net, opt, 2)
    state = opt.state_dict()
    break_it(state)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i, s in before["state"].items():
        for key, value in s.items():
            np.testing.assert_array_equal(after["state"][i][key], value)


# --- Files: no pickle, and a clear error for a file that is not ours -----------------------------------


def test_save_and_load_round_trip_nested_state_exactly(tmp_path):
    obj = {"a": np.arange(3.0), "nested": {0: {"step": 7, "v": np.ones((2, 2), np.float32)}},
           "groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "nesterov": False, "name": None}]}
    dm.save(obj, tmp_path / "x.npz")
    back = dm.load(tmp_path / "x.npz")
    assert back["groups"] == obj["groups"] and isinstance(back["groups"][0]["betas"], tuple)
    assert back["nested"][0]["step"] == 7 and back["nested"][0]["v"].dtype == np.float32
    np.testing.assert_array_equal(back["a"], obj["a"])
    with np.load(tmp_path / "x.npz", allow_pickle=False) as archive:
        assert "__dismantle__" in archive.files  # the format marker


def test_files_that_are_not_ours_are_refused_clearly(tmp_path):
    np.savez(tmp_path / "plain.npz", weight=np.ones(2))
    with pytest.raises(ValueError, match=r"is not a file written by dismantle.save \(no '__dismantle__' entry\)"):
        dm.load(tmp_path / "plain.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="is not a file written by dismantle.save"):
        dm.load(tmp_path / "text.npz")
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="is not a file written by dismantle.save"):
        dm.load(tmp_path / "model.pt")
    np.savez(tmp_path / "pickled.npz", __dismantle__=np.array('{"format": "dismantle.save/1", "tree": {}}'),
             a0=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="is not a file written by dismantle.save"):
        dm.load(tmp_path / "pickled.npz")


def test_save_refuses_what_it_cannot_store_before_writing(tmp_path):
    with pytest.raises(TypeError, match=r"save: obj\['p'\] is a Parameter, which save cannot store"):
        dm.save({"p": dm.Parameter(np.ones(1))}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_buffers_and_shared_modules_are_listed_as_torch_lists_them():
    from tests.test_module import TorchTwoLayers, TwoLayers

    ours, theirs = TwoLayers(), TorchTwoLayers()
    assert list(ours.state_dict()) == list(theirs.state_dict())  # persistent buffers in, "scratch" out
    ours.load_state_dict({k: v.double().numpy() for k, v in theirs.state_dict().items()})
    shared = dm.Linear(3, 3, rng=0)
    tshared = torch.nn.Linear(3, 3)
    tied, ttied = dm.Sequential(shared, dm.ReLU(), shared), torch.nn.Sequential(tshared, torch.nn.ReLU(), tshared)
    assert list(tied.state_dict()) == list(ttied.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
