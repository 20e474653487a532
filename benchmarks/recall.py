"""The transformer chapter's three-seed table: a one-block transformer against an MLP on associative recall.

The task (generated, nothing downloaded): a little dictionary of ``ENTRIES`` entries, each a key
digit and a value digit (the keys all different, the values any digits), then a question, one
of the keys; the answer is that key's value. Training, validation and test piles of
``N_TRAIN``, ``N_VAL`` and ``N_TEST`` dictionaries are drawn once from ``default_rng(DATA_SEED)``;
no test dictionary is needed for anything but the final score.

Run with ``python benchmarks/recall.py`` (``--seeds N``, default 3; ``--jobs N`` trainings in
parallel processes). Every setting tried for either model (``CANDIDATES``: learning rates,
widths, depths, weight decay, number of steps, all at a similar parameter count) is trained on
every seed and scored on the validation pile only; for each model the setting with the best
mean validation accuracy (then the lowest validation loss) is chosen, and only the chosen two
are scored once on the test pile. Seed s draws the weights from ``default_rng(s)`` and the
batches from ``default_rng(s + 1)``.

It prints the mean ± sample standard deviation over seeds and the training time (wall seconds
per run, on this machine, with the BLAS threads it was given, and the CPU seconds of the
process, which on one BLAS thread is about the wall time on an idle core; the script asserts
none).
``--write`` stores every row in ``recall.json`` next to this file, with seed 0's loss at every
step of the chosen transformer, and that trained model's weights in ``recall_seed0.npz`` (the
attention figure draws them); ``tests/test_recall.py`` holds the chapter's table to that
file, and the file to a fresh run of seed 0's first steps.
"""

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from seedtable import summary  # noqa: E402

import dismantle as dm  # noqa: E402

DIGITS, ENTRIES = 10, 6  # keys and values are digits 0-9; six entries per dictionary
ASK = DIGITS  # the value slot of the question holds this extra token, "?"
N_TRAIN, N_VAL, N_TEST, DATA_SEED = 20_000, 2_000, 2_000, 2026
BATCH, WARMUP = 128, 100
RESULTS = Path(__file__).with_name("recall.json")
TRAINED = Path(__file__).with_name("recall_seed0.npz")  # seed 0 of the chosen transformer, for the figure


def make_data(n, rng):
    """`n` dictionaries: keys (n, ENTRIES) all different per row, values (n, ENTRIES), question, answer."""
    keys = np.argsort(rng.random((n, DIGITS)), axis=1)[:, :ENTRIES]
    values = rng.integers(0, DIGITS, size=(n, ENTRIES))
    pick = rng.integers(0, ENTRIES, size=n)
    rows = np.arange(n)
    return keys, values, keys[rows, pick], values[rows, pick]


def piles():
    """The training, validation and test piles, each a tuple (keys, values, question, answer)."""
    rng = np.random.default_rng(DATA_SEED)
    return make_data(N_TRAIN, rng), make_data(N_VAL, rng), make_data(N_TEST, rng)


def as_tokens(keys, values, question):
    """The transformer's input: ENTRIES + 1 slots, each a key token and a value token; the last asks."""
    n = len(question)
    return (np.concatenate([keys, question[:, None]], axis=1),
            np.concatenate([values, np.full((n, 1), ASK)], axis=1))


def as_one_hot(keys, values, question):
    """The MLP's input: one-hot key of every entry, one-hot value of every entry, one-hot question."""
    n = len(question)
    x = np.zeros((n, (2 * ENTRIES + 1) * DIGITS))
    rows, slots = np.arange(n)[:, None], np.arange(ENTRIES) * DIGITS
    x[rows, slots + keys] = 1
    x[rows, ENTRIES * DIGITS + slots + values] = 1
    x[np.arange(n), 2 * ENTRIES * DIGITS + question] = 1
    return x


class Recall(dm.Module):
    """Key and value embeddings added per slot, one pre-norm block with a causal mask, then the last slot's answer."""

    def __init__(self, d_model=32, nhead=2, dim_feedforward=64, rng=None):
        super().__init__()
        rng = np.random.default_rng(rng)
        self.key_embed = dm.Embedding(DIGITS, d_model, rng=rng)
        self.value_embed = dm.Embedding(DIGITS + 1, d_model, rng=rng)  # row ASK is "?"
        self.block = dm.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0,
                                                batch_first=True, norm_first=True, rng=rng)
        self.norm = dm.LayerNorm(d_model)
        self.head = dm.Linear(d_model, DIGITS, rng=rng)
        self.mask = np.triu(np.ones((ENTRIES + 1, ENTRIES + 1), bool), 1)  # True = may not look

    def forward(self, keys, values, question):
        k, v = as_tokens(keys, values, question)
        x = self.key_embed(k) + self.value_embed(v)
        y = self.block(x, src_mask=self.mask, is_causal=True)
        self.save_for_backward(y.shape)
        return self.head(self.norm(y[:, -1]))  # only the question's slot answers

    def backward(self, grad_output, *, input_grad=False):
        (shape,) = self.saved()
        dy = np.zeros(shape)
        dy[:, -1] = self.norm.backward(self.head.backward(grad_output))
        dx = self.block.backward(dy)
        self.value_embed.backward(dx)
        self.key_embed.backward(dx)


class OneHotMLP(dm.Module):
    """An MLP on the one-hot dictionary: `hidden` is a tuple of layer widths."""

    def __init__(self, hidden=(70,), rng=None):
        super().__init__()
        rng = np.random.default_rng(rng)
        layers, width = [], (2 * ENTRIES + 1) * DIGITS
        for h in hidden:
            layers += [dm.Linear(width, h, rng=rng), dm.ReLU()]
            width = h
        self.net = dm.Sequential(*layers, dm.Linear(width, DIGITS, rng=rng))

    def forward(self, keys, values, question):
        return self.net(as_one_hot(keys, values, question))

    def backward(self, grad_output, *, input_grad=False):
        self.net.backward(grad_output, input_grad=False)


def schedule(optimizer, steps):
    """Warm up linearly over WARMUP steps from 1% of the rate, then half a cosine down to zero."""
    sched = dm.lr_scheduler
    return sched.SequentialLR(optimizer, [sched.LinearLR(optimizer, start_factor=0.01, total_iters=WARMUP),
                                          sched.CosineAnnealingLR(optimizer, T_max=steps - WARMUP)],
                              milestones=[WARMUP])


def train(model, pile, lr, steps, seed, weight_decay=0.0, record=False, stop=None):
    """Adam(W) with warmup and cosine, batches of BATCH drawn by epochs from default_rng(seed + 1).

    Returns the loss of every step if `record`, else None. `stop` ends the run early, after
    that many steps of the same `steps`-long schedule (the test re-runs the first steps)."""
    optimizer = dm.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay) if weight_decay else \
        dm.Adam(model.parameters(), lr=lr)
    scheduler, loss_fn = schedule(optimizer, steps), dm.CrossEntropyLoss()
    rng, n, losses, step = np.random.default_rng(seed + 1), len(pile[3]), [], 0
    stop = steps if stop is None else stop
    while step < stop:
        order = rng.permutation(n)
        for start in range(0, n - BATCH + 1, BATCH):
            keys, values, question, answer = (a[order[start:start + BATCH]] for a in pile)
            loss = loss_fn(model(keys, values, question), answer)
            optimizer.zero_grad()
            model.backward(loss_fn.backward())
            optimizer.step()
            scheduler.step()
            losses.append(loss)
            step += 1
            if step == stop:
                break
    return losses if record else None


def score(model, pile):
    """Loss and exact-answer accuracy on a pile (evaluation mode, no graph)."""
    keys, values, question, answer = pile
    loss_fn = dm.CrossEntropyLoss()
    model.eval()
    with dm.no_grad():
        logits = model(keys, values, question)
    model.train()
    return float(loss_fn(logits, answer)), float((logits.argmax(axis=1) == answer).mean())


def transformer(lr, steps, d_model=32):
    return dict(make=lambda seed: Recall(d_model, 2, 2 * d_model, rng=seed), lr=lr, steps=steps)


def mlp(hidden, lr, steps, weight_decay=0.0):
    return dict(make=lambda seed: OneHotMLP(hidden, rng=seed), lr=lr, steps=steps, weight_decay=weight_decay)


# name: setting; every setting tried, scored on validation only
CANDIDATES = {
    "transformer": {
        f"d 32, Adam {lr}, {steps} steps": transformer(lr, steps) for lr in (0.003, 0.001) for steps in (300, 600)
    },
    "MLP": {
        f"{'-'.join(map(str, hidden))}, {'AdamW' if wd else 'Adam'} {lr}{f' wd {wd}' if wd else ''}, {steps} steps":
            mlp(hidden, lr, steps, wd)
        for hidden in ((70,), (50, 50))
        for lr in (0.001, 0.003, 0.01)
        for wd in (0.0, 0.1)
        for steps in (1500, 6000)
    },
}


def setting(name):
    return next(family[name] for family in CANDIDATES.values() if name in family)


def run(name, seed, record=False):
    """One seed of setting `name`: parameters, seconds, validation loss and accuracy, and the trained state."""
    s = setting(name)
    train_pile, val, _ = piles()
    model = s["make"](seed)
    start, cpu = time.perf_counter(), time.process_time()
    losses = train(model, train_pile, s["lr"], s["steps"], seed, s.get("weight_decay", 0.0), record=record)
    row = dict(params=sum(p.data.size for p in model.parameters()), seconds=time.perf_counter() - start,
               cpu_seconds=time.process_time() - cpu)
    row["val_loss"], row["val"] = score(model, val)
    row["state"] = model.state_dict()
    if record:
        row["losses"] = losses
    return row


def test_score(name, seed, state):
    """Load a finished model's weights and score it on the test pile: once."""
    model = setting(name)["make"](seed)
    model.load_state_dict(state)
    return score(model, piles()[2])[1]


def best(rows):
    """The setting with the best mean validation accuracy, then the lowest mean validation loss."""
    return min(rows, key=lambda n: (-np.mean([r["val"] for r in rows[n]]), np.mean([r["val_loss"] for r in rows[n]])))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="trainings run in parallel processes")
    parser.add_argument("--only", choices=list(CANDIDATES), help="train one family only (no --write)")
    parser.add_argument("--write", action="store_true", help="store the results in recall.json")
    args = parser.parse_args()
    families = [args.only] if args.only else list(CANDIDATES)
    tasks = [(name, seed) for family in families for name in CANDIDATES[family] for seed in range(args.seeds)]
    tasks.sort(key=lambda t: family_of(t[0]) != "transformer")  # the slow ones first
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        done = pool.starmap(run, [(name, seed, seed == 0 and family_of(name) == "transformer")
                                  for name, seed in tasks])
    rows = {name: [r for (n, _), r in zip(tasks, done) if n == name] for f in families for name in CANDIDATES[f]}
    states = {name: [r.pop("state") for r in runs] for name, runs in rows.items()}
    kept = dict(candidates={}, chosen={}, final={})
    for family in families:
        candidates = {name: rows[name] for name in CANDIDATES[family]}
        for name, runs in candidates.items():
            print(summary(name, [{k: v for k, v in r.items() if k != "losses"} for r in runs]), flush=True)
        chosen = best(candidates)
        print(f"{family}: chosen on validation: {chosen}")
        kept["candidates"][family] = {name: [{k: v for k, v in r.items() if k != "losses"} for r in runs]
                                      for name, runs in candidates.items()}
        kept["chosen"][family] = chosen
        final = [dict({k: v for k, v in r.items() if k != "losses"}, test=test_score(chosen, seed, state))
                 for seed, (r, state) in enumerate(zip(rows[chosen], states[chosen]))]
        kept["final"][family] = final
        if family == "transformer":
            kept["losses"] = rows[chosen][0]["losses"]
    for family in families:
        print(summary(f"{family}: {kept['chosen'][family]}", kept["final"][family]))
    if args.write and not args.only:
        RESULTS.write_text(json.dumps(kept, indent=1) + "\n")
        np.savez(TRAINED, **states[kept["chosen"]["transformer"]][0])


def family_of(name):
    return next(f for f, family in CANDIDATES.items() if name in family)


if __name__ == "__main__":
    main()
