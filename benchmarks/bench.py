"""How fast is dismantle? One training step against torch, plus the test suite and the site build.

Run with ``make bench`` (or ``python benchmarks/bench.py``). This is a measurement, not a test:
nothing here asserts a time. It prints

* the time of one training step (forward, cross-entropy loss, backward, then an SGD step with
  momentum 0.9, and separately an Adam step) of a float32 MLP 784-256-10 on a batch of 128, for
  dismantle and for torch (``foreach=False``, its per-tensor loop, like ours) on the CPU with the
  same number of threads (NumPy's BLAS pool is limited with threadpoolctl). The two are timed
  alternately in this one process, round after round, and the ratio dismantle/torch of each
  round is summarised by its median, min and max;
* the time of the forward and backward pass of a small float32 pre-norm
  ``TransformerEncoderLayer`` with a causal mask, dismantle against torch (same weights, loaded
  from torch's state_dict), timed the same alternating way;
* the wall time of the whole test suite, ``python -m pytest -q``;
* the wall time of ``mkdocs build --strict``.

Options: ``--rounds N``, ``--steps N`` (steps per timed block), ``--threads N`` and
``--optimizer SGD|Adam`` (both repeatable),
``--skip-suite``, ``--skip-build``, ``--skip-block``.
"""

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import dismantle as dm  # noqa: E402

SIZES, BATCH, LR, MOMENTUM = (784, 256, 10), 128, 0.01, 0.9
OPTIMIZERS = {  # name: (ours, torch's), each called with the parameters
    "SGD": (lambda ps: dm.SGD(ps, lr=LR, momentum=MOMENTUM),
            lambda ps: torch.optim.SGD(ps, lr=LR, momentum=MOMENTUM, foreach=False)),
    "Adam": (lambda ps: dm.Adam(ps, lr=1e-3), lambda ps: torch.optim.Adam(ps, lr=1e-3, foreach=False)),
}


def make_pair(seed=0):
    """Our float32 MLP and its torch twin with the same weights, each with SGD and momentum."""
    rng = np.random.default_rng(seed)
    ours = dm.Sequential(dm.Linear(SIZES[0], SIZES[1], rng=rng, dtype=np.float32), dm.ReLU(),
                         dm.Linear(SIZES[1], SIZES[2], rng=rng, dtype=np.float32))
    twin = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(), torch.nn.Linear(SIZES[1], SIZES[2]))
    with torch.no_grad():
        for theirs, mine in zip(twin.parameters(), ours.parameters()):
            theirs.copy_(torch.from_numpy(mine.data))
    x = rng.normal(size=(BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[2], size=BATCH)
    return ours, twin, x, y


def dismantle_stepper(model, x, y, make_opt):
    loss_fn, opt = dm.CrossEntropyLoss(), make_opt(model.parameters())

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        model.backward(loss_fn.backward(), input_grad=False)  # like torch: x has no requires_grad
        opt.step()
        return loss

    return step


def torch_stepper(model, x, y, make_opt):
    opt = make_opt(model.parameters())
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(tx), ty)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def timed(step, steps):
    """Seconds per step, averaged over a block of `steps` consecutive steps."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def race(threads, rounds, steps, optimizer="SGD"):
    """Alternate dismantle and torch blocks; return per-round (ours, torch) seconds per step."""
    ours, twin, x, y = make_pair()
    make_ours, make_torch = OPTIMIZERS[optimizer]
    ours_step, torch_step = dismantle_stepper(ours, x, y, make_ours), torch_stepper(twin, x, y, make_torch)
    return alternate(ours_step, torch_step, threads, rounds, steps, tol=1e-4)


BLOCK = dict(d_model=64, nhead=4, dim_feedforward=256, batch=32, length=16)  # a small pre-norm encoder block


def block_steppers(seed=0):
    """Forward and backward of our float32 pre-norm TransformerEncoderLayer and of torch's, same weights, causal."""
    d, n, length = BLOCK["d_model"], BLOCK["batch"], BLOCK["length"]
    kw = dict(dim_feedforward=BLOCK["dim_feedforward"], dropout=0.0, batch_first=True, norm_first=True)
    torch.manual_seed(seed)
    twin = torch.nn.TransformerEncoderLayer(d, BLOCK["nhead"], **kw)
    ours = dm.TransformerEncoderLayer(d, BLOCK["nhead"], **kw, rng=seed, dtype=np.float32)
    ours.load_state_dict({key: value.detach().numpy() for key, value in twin.state_dict().items()})
    rng = np.random.default_rng(seed)
    x, g = (rng.normal(size=(n, length, d)).astype(np.float32) for _ in range(2))
    mask = np.triu(np.ones((length, length), bool), 1)
    tx, tg, tmask = torch.tensor(x, requires_grad=True), torch.from_numpy(g), torch.from_numpy(mask)

    def ours_step():
        ours.zero_grad()
        y = ours(x, src_mask=mask, is_causal=True)
        ours.backward(g)
        return float(y[0, 0, 0])

    def torch_step():
        twin.zero_grad()
        tx.grad = None
        y = twin(tx, src_mask=tmask, is_causal=True)
        y.backward(tg)
        return float(y[0, 0, 0].detach())

    return ours_step, torch_step


def block_race(threads, rounds, steps):
    """Alternate forward+backward blocks of the encoder layer; return per-round (ours, torch) seconds per step."""
    return alternate(*block_steppers(), threads, rounds, steps, tol=1e-4)


CNN_BATCH = 32  # the CNN of "A CNN on the digits" (docs/cnn-digits.md) on 8x8 digits, float64 as on the page


def cnn_layers(seed=0):
    """{name: (ours, torch's twin, input shape)}: each layer of the chapter's CNN at its size, and the whole CNN."""
    def conv(cin, cout):
        return dm.Conv2d(cin, cout, 3, padding=1, rng=seed), torch.nn.Conv2d(cin, cout, 3, padding=1).double()

    c1, c2 = conv(1, 12), conv(12, 24)
    net = dm.Sequential(dm.Conv2d(1, 12, 3, padding=1, rng=seed), dm.ReLU(), dm.MaxPool2d(2),
                        dm.Conv2d(12, 24, 3, padding=1, rng=seed), dm.ReLU(), dm.MaxPool2d(2),
                        dm.Flatten(), dm.Linear(96, 10, rng=seed))
    twin = torch.nn.Sequential(torch.nn.Conv2d(1, 12, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(12, 24, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(96, 10)).double()
    for ours, theirs in [c1, c2, (net, twin)]:
        theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    return {"Conv2d(1, 12, 3, padding=1)": (*c1, (1, 8, 8)), "MaxPool2d(2) on 12 x 8 x 8": (dm.MaxPool2d(2),
            torch.nn.MaxPool2d(2), (12, 8, 8)), "Conv2d(12, 24, 3, padding=1)": (*c2, (12, 4, 4)),
            "MaxPool2d(2) on 24 x 4 x 4": (dm.MaxPool2d(2), torch.nn.MaxPool2d(2), (24, 4, 4)),
            "the whole CNN": (net, twin, (1, 8, 8))}


def cnn_steppers(ours, twin, shape, seed=0):
    """Forward + backward (input gradient included) of one layer, ours and torch's, on the same data."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(CNN_BATCH, *shape))
    g = rng.normal(size=ours(x).shape)
    tx, tg = torch.tensor(x, requires_grad=True), torch.from_numpy(g)

    def ours_step():
        ours.zero_grad()
        y = ours(x)
        ours.backward(g)
        return float(y.flat[0])

    def torch_step():
        twin.zero_grad()
        tx.grad = None
        y = twin(tx)
        y.backward(tg)
        return float(y.flatten()[0].detach())

    return ours_step, torch_step


def alternate(ours_step, torch_step, threads, rounds, steps, tol=1e-10):
    """Alternate timed blocks of the two steppers; return per-round (ours, torch) seconds per step.

    The first step of each must agree within `tol` (float32 models: 1e-4; float64 layers: 1e-10).
    """
    torch.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        first = (ours_step(), torch_step())
        assert abs(first[0] - first[1]) < tol, f"the two disagree before timing: {first}"
        for _ in range(3):  # warm-up: caches, thread pools, torch's lazy initialisation
            timed(ours_step, steps), timed(torch_step, steps)
        times = []
        for r in range(rounds):
            if r % 2 == 0:  # alternate who goes first, so neither always gets the warmer cache
                a = timed(ours_step, steps)
                b = timed(torch_step, steps)
            else:
                b = timed(torch_step, steps)
                a = timed(ours_step, steps)
            times.append((a, b))
    return times


def cnn_report(threads_list, rounds, steps):
    print(f"the CNN of 'A CNN on the digits', float64, batch {CNN_BATCH}: forward + backward of each layer")
    for threads in threads_list:
        for name, (ours, twin, shape) in cnn_layers().items():
            times = alternate(*cnn_steppers(ours, twin, shape), threads, rounds, steps)
            ratios = [a / b for a, b in times]
            print(f"  {name:28s} threads {threads}: dismantle {1e3 * statistics.median(a for a, _ in times):.3f} ms, "
                  f"torch {1e3 * statistics.median(b for _, b in times):.3f} ms; ratio median "
                  f"{statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}, {len(ratios)} rounds)")


def wall(cmd):
    """Run `cmd` in the repository; return (seconds, return code, last lines of its output)."""
    env = os.environ | {"NO_MKDOCS_2_WARNING": "1", "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    tail = (run.stdout + run.stderr).strip().splitlines()[-1:] or [""]
    return time.perf_counter() - start, run.returncode, tail[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, action="append")
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS), action="append")
    parser.add_argument("--skip-suite", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--skip-block", action="store_true", help="skip the transformer block's forward+backward")
    parser.add_argument("--skip-cnn", action="store_true", help="skip the CNN layers' forward+backward")
    parser.add_argument("--only-cnn", action="store_true", help="time only the CNN layers")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs; "
          f"MLP {'-'.join(map(str, SIZES))}, float32, batch {BATCH}, SGD momentum {MOMENTUM} or Adam lr 1e-3")
    if args.only_cnn:
        return cnn_report(args.threads or [1, os.cpu_count()], args.rounds, args.steps)
    for optimizer, threads in itertools.product(args.optimizer or list(OPTIMIZERS), args.threads or [1, os.cpu_count()]):
        times = race(threads, args.rounds, args.steps, optimizer)
        ratios = [a / b for a, b in times]
        ours_ms = 1e3 * statistics.median(a for a, _ in times)
        torch_ms = 1e3 * statistics.median(b for _, b in times)
        print(f"{optimizer}, threads {threads}: dismantle {ours_ms:.3f} ms/step, torch {torch_ms:.3f} ms/step (medians); "
              f"ratio dismantle/torch median {statistics.median(ratios):.3f}, "
              f"min {min(ratios):.3f}, max {max(ratios):.3f} over {len(ratios)} rounds of {args.steps} steps")
    if not args.skip_block:
        print(f"pre-norm TransformerEncoderLayer, float32, causal: d_model {BLOCK['d_model']}, {BLOCK['nhead']} heads, "
              f"feed-forward {BLOCK['dim_feedforward']}, batch {BLOCK['batch']} x length {BLOCK['length']}; "
              "forward + backward")
        for threads in args.threads or [1, os.cpu_count()]:
            times = block_race(threads, args.rounds, args.steps)
            ratios = [a / b for a, b in times]
            print(f"block, threads {threads}: dismantle {1e3 * statistics.median(a for a, _ in times):.3f} ms, "
                  f"torch {1e3 * statistics.median(b for _, b in times):.3f} ms (medians); ratio dismantle/torch "
                  f"median {statistics.median(ratios):.3f}, min {min(ratios):.3f}, max {max(ratios):.3f} "
                  f"over {len(ratios)} rounds of {args.steps} steps")
    if not args.skip_cnn:
        cnn_report(args.threads or [1, os.cpu_count()], args.rounds, args.steps)
    if not args.skip_suite:
        seconds, code, tail = wall([sys.executable, "-m", "pytest", "-q"])
        print(f"test suite (python -m pytest -q): {seconds:.1f} s wall, exit {code}: {tail}")
    if not args.skip_build:
        with tempfile.TemporaryDirectory() as out:
            seconds, code, tail = wall([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", out])
        print(f"site build (mkdocs build --strict): {seconds:.1f} s wall, exit {code}")


if __name__ == "__main__":
    main()
