"""Figure for the Regularization chapter: four learning-rate schedules, their rates and the loss they give."""

import functools

import numpy as np
from figstyle import COLORS, DESKTOP_IN, MIN_PT, PHONE_IN, with_narrow
from matplotlib.ticker import FuncFormatter, NullFormatter

import dismantle as dm

STEPS, PEAK, WARM, EPOCHS, BATCH, SMOOTH = 3 * 45, 0.2, 13, 3, 32, 9  # the page's schedule runs


def schedules():
    """The page's four schedules, each a function of the optimizer (None: a constant rate)."""
    sched = dm.lr_scheduler
    return {
        "constant": lambda opt: None,
        "step": lambda opt: sched.StepLR(opt, step_size=45, gamma=0.2),
        "warmup + cosine": lambda opt: sched.SequentialLR(opt, [
            sched.LinearLR(opt, start_factor=0.1, total_iters=WARM),
            sched.CosineAnnealingLR(opt, T_max=STEPS - WARM)], milestones=[WARM]),
        "one-cycle": lambda opt: sched.OneCycleLR(opt, max_lr=PEAK, total_steps=STEPS),
    }


@functools.cache
def curves():
    """{schedule: (rates, losses)} of seed 0, one entry per mini-batch step, as the page's run."""
    x_train, _, y_train, _ = dm.load_digits()
    loss_fn, out = dm.CrossEntropyLoss(), {}
    for name, make in schedules().items():
        rng = np.random.default_rng(0)
        model = dm.Sequential(dm.Linear(64, 64, rng=rng), dm.ReLU(), dm.Linear(64, 10, rng=rng))
        opt = dm.SGD(model.parameters(), lr=PEAK, momentum=0.9)
        schedule, order = make(opt), np.random.default_rng(100)
        rates, losses = [], []
        for _ in range(EPOCHS):
            for xb, yb in dm.batches(x_train, y_train, BATCH, order):
                loss = loss_fn(model(xb), yb)
                opt.zero_grad()
                model.backward(loss_fn.backward(), input_grad=False)
                rates.append(opt.param_groups[0]["lr"])
                opt.step()
                if schedule is not None:
                    schedule.step()
                losses.append(float(loss))
        out[name] = (np.array(rates), np.array(losses))
    return out


def smoothed(losses):
    """The mean of each window of SMOOTH consecutive steps (valid windows only)."""
    return np.convolve(losses, np.ones(SMOOTH) / SMOOTH, mode="valid")


def draw(fig, narrow=False):
    """Top: the learning rate per step; bottom: the training loss, smoothed over 9 steps."""
    fig.set_size_inches(PHONE_IN, 5.6) if narrow else fig.set_size_inches(DESKTOP_IN - 0.4, 4.6)
    top, bottom = fig.subplots(2, 1, sharex=True)
    steps = np.arange(STEPS)
    for (name, (rates, losses)), color in zip(curves().items(), COLORS):
        top.plot(steps, rates, color=color, linewidth=1.6)
        bottom.plot(steps[SMOOTH - 1:], smoothed(losses), color=color, linewidth=1.4, label=name)
    top.set_ylabel("learning rate")
    top.set_ylim(0, 0.22)
    bottom.legend(loc="lower left", fontsize=MIN_PT, ncol=1 if narrow else 2)  # the curves start high
    bottom.set_ylabel("training loss")
    bottom.set_yscale("log")
    # plain labels ("0.1", not a mathtext 10^-1 whose exponent renders below 11 px)
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    bottom.yaxis.set_minor_formatter(NullFormatter())
    bottom.set_xlabel("step (mini-batch of 32)")
    fig.tight_layout()


FIGURES = with_narrow({"regularization-schedules.svg": draw})
