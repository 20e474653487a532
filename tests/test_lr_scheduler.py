"""dismantle.lr_scheduler against torch.optim.lr_scheduler, run side by side for 300+ steps.

Both schedulers drive an optimizer with two parameter groups (their own learning rates); after
every `optimizer.step()` each group's `lr` (and, for OneCycleLR, its momentum or beta1) must
equal torch's to 1e-12, relative. The schedules are pure float arithmetic in the same order as
torch's, so in practice they agree exactly; 1e-12 leaves room for nothing else.
"""

import math
import pickle
import warnings

import numpy as np
import pytest
import torch

import dismantle as dm
from dismantle import lr_scheduler as ours

STEPS, TOL = 320, 1e-12


def optimizers(kind="sgd", lr=0.1):
    """Our optimizer and torch's, each with two groups: lr and 3 * lr."""
    a, b = dm.Parameter(np.zeros(2)), dm.Parameter(np.zeros(3))
    s, t = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    if kind == "sgd":
        return (dm.SGD([{"params": [a]}, {"params": [b], "lr": 3 * lr}], lr=lr, momentum=0.9),
                torch.optim.SGD([{"params": [s]}, {"params": [t], "lr": 3 * lr}], lr=lr, momentum=0.9))
    return (dm.Adam([{"params": [a]}, {"params": [b], "lr": 3 * lr}], lr=lr),
            torch.optim.Adam([{"params": [s]}, {"params": [t], "lr": 3 * lr}], lr=lr))


def warmup_cosine(m, opt, warm=20, total=STEPS):
    return m.SequentialLR(opt, [m.LinearLR(opt, 0.01, total_iters=warm), m.CosineAnnealingLR(opt, total - warm)], [warm])


GRID = {  # name: (a function of the scheduler module and the optimizer, the optimizer kind)
    "step-7-0.5": (lambda m, o: m.StepLR(o, 7, 0.5), "sgd"),
    "step-100": (lambda m, o: m.StepLR(o, step_size=100), "sgd"),
    "multistep": (lambda m, o: m.MultiStepLR(o, [10, 50, 50, 200], 0.3), "sgd"),
    "multistep-unsorted": (lambda m, o: m.MultiStepLR(o, [150, 3], gamma=0.5), "adam"),
    "exponential": (lambda m, o: m.ExponentialLR(o, 0.99), "sgd"),
    "exponential-grow": (lambda m, o: m.ExponentialLR(o, 1.001), "adam"),
    "cosine": (lambda m, o: m.CosineAnnealingLR(o, 100, 1e-3), "sgd"),
    "cosine-long": (lambda m, o: m.CosineAnnealingLR(o, T_max=STEPS), "adam"),
    "cosine-short": (lambda m, o: m.CosineAnnealingLR(o, 7), "sgd"),
    "linear-warmup": (lambda m, o: m.LinearLR(o, 0.1, 1.0, 20), "sgd"),
    "linear-decay": (lambda m, o: m.LinearLR(o, 1.0, 0.05, total_iters=250), "adam"),
    "linear-defaults": (lambda m, o: m.LinearLR(o), "sgd"),
    "warmup-cosine": (warmup_cosine, "sgd"),
    "three-pieces": (lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.5, total_iters=5), m.ExponentialLR(o, 0.98),
                                                     m.StepLR(o, 30, 0.5)], [5, 100]), "adam"),
    "onecycle": (lambda m, o: m.OneCycleLR(o, 0.5, total_steps=STEPS), "sgd"),
    "onecycle-adam": (lambda m, o: m.OneCycleLR(o, [0.5, 0.05], epochs=10, steps_per_epoch=STEPS // 10), "adam"),
    "onecycle-linear-3": (lambda m, o: m.OneCycleLR(o, 0.2, total_steps=STEPS, pct_start=0.25, anneal_strategy="linear",
                                                    three_phase=True, div_factor=10.0, final_div_factor=100.0), "sgd"),
    "onecycle-no-momentum": (lambda m, o: m.OneCycleLR(o, 0.3, total_steps=STEPS, cycle_momentum=False), "sgd"),
}


def race(make, kind="sgd", steps=STEPS, make_torch=None):
    """Step both schedules side by side; assert every group's lr and momentum agree at every step."""
    opt, topt = optimizers(kind)
    sched, tsched = make(ours, opt), (make_torch or make)(torch.optim.lr_scheduler, topt)
    for step in range(steps):
        opt.step()
        topt.step()
        for i, (group, tgroup) in enumerate(zip(opt.param_groups, topt.param_groups, strict=True)):
            for key in ("lr", "momentum", "betas"):
                if key in tgroup:
                    mine, theirs = np.ravel(group[key])[0], np.ravel(tgroup[key])[0]
                    assert math.isclose(mine, theirs, rel_tol=TOL, abs_tol=1e-300), (step, i, key, mine, theirs)
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        assert sched.last_epoch == tsched.last_epoch, step
        if step < steps - 1:
            sched.step()
            tsched.step()
    return sched


@pytest.mark.parametrize("name", GRID)
def test_every_step_equals_torch(name):
    make, kind = GRID[name]
    race(make, kind)


class OffByOneStepLR(ours.StepLR):
    """Planted fault: decays one step early (counts from 1 instead of 0)."""

    def get_lr(self):
        self.last_epoch += 1
        try:
            return super().get_lr() if self.last_epoch != 1 else self._lrs()
        finally:
            self.last_epoch -= 1


class OffByOneCosine(ours.CosineAnnealingLR):
    """Planted fault: the closed form evaluated one step late."""

    def get_lr(self):
        if self._is_initial:
            return self._lrs()
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * (self.last_epoch + 1) / self.T_max)) / 2
                for b in self.base_lrs]


@pytest.mark.parametrize(("fake", "real"), [
    (lambda m, o: OffByOneStepLR(o, 7, 0.5), lambda m, o: m.StepLR(o, 7, 0.5)),
    (lambda m, o: OffByOneCosine(o, 100), lambda m, o: m.CosineAnnealingLR(o, 100)),
], ids=["step-decays-a-step-early", "cosine-a-step-late"])
def test_planted_off_by_one_schedule_is_caught(fake, real):
    with pytest.raises(AssertionError):
        race(fake, make_torch=real)


def test_a_scheduler_stepped_before_its_optimizer_warns_as_torch():
    for module, (opt, topt) in ((ours, optimizers()), (torch.optim.lr_scheduler, optimizers())):
        o = opt if module is ours else topt
        sched = module.StepLR(o, 3)
        with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
            sched.step()
    opt, _ = optimizers()
    sched = ours.StepLR(opt, 3)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()  # the right order: silent


def test_state_dict_resumes_the_schedule_exactly():
    straight = race(GRID["warmup-cosine"][0], steps=200)
    opt, _ = optimizers()
    first = warmup_cosine(ours, opt)
    for _ in range(90):
        opt.step()
        first.step()
    saved = pickle.loads(pickle.dumps(first.state_dict()))  # survives a round trip through bytes
    opt2, _ = optimizers()
    second = warmup_cosine(ours, opt2)
    second.load_state_dict(saved)
    for group, lr in zip(opt2.param_groups, first.get_last_lr()):
        group["lr"] = lr  # the optimizer's own state_dict carries its lrs; here we copy them
    for _ in range(109):
        opt2.step()
        second.step()
    assert second.get_last_lr() == straight.get_last_lr()
    assert "optimizer" not in saved


def test_torchs_errors():
    opt, _ = optimizers()
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        ours.StepLR([], 3)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        ours.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        ours.OneCycleLR(opt, 0.1)
    with pytest.raises(ValueError, match="Expected float between 0 and 1 pct_start, but got 1"):
        ours.OneCycleLR(opt, 0.1, total_steps=10, pct_start=1)
    sched = ours.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        sched.step()
    fresh, _ = optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        ours.StepLR(fresh, 3, last_epoch=5)
    other, _ = optimizers()
    with pytest.raises(ValueError, match="same optimizer"):
        ours.SequentialLR(opt, [ours.StepLR(other, 3)], [])


def _resumed_through_a_file(name, tmp_path, plant=None):
    """Every lr (and momentum/beta1) of a run saved with dm.save after 90 steps, resumed from the file."""
    make, kind = GRID[name]
    straight, _ = optimizers(kind)
    sched = make(ours, straight)
    trajectory = []
    for _ in range(200):
        straight.step()
        sched.step()
        trajectory.append([{k: v for k, v in g.items() if k != "params"} for g in straight.param_groups])
    first, _ = optimizers(kind)
    first_sched = make(ours, first)
    for _ in range(90):
        first.step()
        first_sched.step()
    path = tmp_path / "run.npz"
    dm.save({"optimizer": first.state_dict(), "scheduler": first_sched.state_dict()}, path)
    ckpt = dm.load(path)
    if plant:
        plant(ckpt["scheduler"])
    second, _ = optimizers(kind)
    second_sched = make(ours, second)
    second.load_state_dict(ckpt["optimizer"])
    second_sched.load_state_dict(ckpt["scheduler"])
    resumed = trajectory[:90]
    for _ in range(110):
        second.step()
        second_sched.step()
        resumed.append([{k: v for k, v in g.items() if k != "params"} for g in second.param_groups])
    return resumed, trajectory


@pytest.mark.parametrize("name", ["step-7-0.5", "multistep", "exponential", "cosine", "linear-warmup",
                                  "warmup-cosine", "three-pieces", "onecycle", "onecycle-adam"])
def test_a_schedule_saved_with_dm_save_resumes_exactly(name, tmp_path):
    resumed, straight = _resumed_through_a_file(name, tmp_path)
    assert resumed == straight


def _forget_the_step_count(state):
    for s in [state, *state.get("_schedulers", [])]:
        s["last_epoch"] = 0


def test_the_file_resume_test_catches_a_step_count_not_restored(tmp_path):
    resumed, straight = _resumed_through_a_file("warmup-cosine", tmp_path, plant=_forget_the_step_count)
    assert resumed != straight
