"""The explorables' JavaScript computes what `dismantle` computes, to 1e-12 (float64 both).

One Node process per check runs the page's own file (``docs/assets/explorables/*.js``, loaded
with ``require``) on many fixed cases read as JSON from stdin; Python runs the same cases
through ``dismantle``. Each comparison also runs on a copy of the JavaScript with one line
changed (a planted fault), and must then fail.
"""

import functools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import dismantle as dm

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "docs" / "assets" / "explorables"
TOL = 1e-12  # on |js - python| / max(1, |python|): coordinates grow large before a walk diverges
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is needed (make install checks for it)")


def run_node(script, module, cases):
    """``require(module)`` in Node and apply ``script`` (JS text, a function of ``(lib, case)``) to every case."""
    program = (f"const lib = require({json.dumps(str(module))});\n"
               f"const run = {script};\n"
               "let text = ''; process.stdin.on('data', (d) => { text += d; });\n"
               "process.stdin.on('end', () => { process.stdout.write(JSON.stringify("
               "JSON.parse(text).map((c) => run(lib, c)))); });\n")
    done = subprocess.run([NODE, "-e", program], input=json.dumps(cases), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def planted(tmp_path, name, old, new):
    """A copy of ``name`` with ``old`` replaced by ``new`` once (the fault); ``old`` must be there."""
    text = (ASSETS / name).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the line to plant a fault in is not (once) in {name}: {old!r}"
    copy = tmp_path / name
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy


def worst(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes differ: JavaScript {a.shape}, dismantle {b.shape}"
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size else 0.0


# ---------------------------------------------------------------- the bowl

BOWL = ASSETS / "bowl.js"
LIMIT = 1e12  # the walk stops once f passes it (bowl.js's LIMIT)


def slider(lo, step, k, digits):
    """The value a range input shows at notch ``k``, as the page reads it (``Number("0.105")``)."""
    return float(f"{lo + k * step:.{digits}f}")


def bowl_cases():
    """A sample of every setting the bowl's sliders offer: both optimizers, ends of each range included."""
    rates = [slider(0.005, 0.005, k, 3) for k in (0, 1, 9, 19, 35, 39, 40, 41, 50, 59)]  # 0.005 … 0.3, 0.2 in it
    starts = [[-4.5, 1.6], [4.8, -2.2], [0.3, 0.1]]
    cases = []
    for lr in rates:
        for momentum in [slider(0, 0.05, k, 2) for k in (0, 1, 6, 10, 16, 19)]:
            for nesterov in ([False, True] if momentum else [False]):
                cases.append(dict(optimizer="sgd", lr=lr, momentum=momentum, nesterov=nesterov))
        for beta1 in [slider(0, 0.05, k, 2) for k in (0, 10, 18, 19)]:
            for beta2 in [slider(0.5, 0.001, k, 3) for k in (0, 400, 490, 499)]:
                cases.append(dict(optimizer="adam", lr=lr, beta1=beta1, beta2=beta2))
    return [dict(settings=c, start=starts[i % len(starts)], steps=100) for i, c in enumerate(cases)]


def dismantle_walk(settings, start, steps):
    """The walk as the chapter's `walk_the_bowl` takes it, every point kept; stops past LIMIT like the page."""
    point = dm.Parameter(np.array(start, dtype=np.float64))
    if settings["optimizer"] == "adam":
        opt = dm.Adam([point], lr=settings["lr"], betas=(settings["beta1"], settings["beta2"]))
    else:
        opt = dm.SGD([point], lr=settings["lr"], momentum=settings["momentum"], nesterov=settings["nesterov"])
    path, values = [point.data.copy()], [0.5 * (point.data[0] ** 2 + 10 * point.data[1] ** 2)]
    for _ in range(steps):
        opt.zero_grad()
        point.grad = np.array([1.0, 10.0]) * point.data  # the gradient (x, 10 y)
        opt.step()
        path.append(point.data.copy())
        values.append(0.5 * (point.data[0] ** 2 + 10 * point.data[1] ** 2))
        if not values[-1] <= LIMIT:
            return path, values, True
    return path, values, False


BOWL_RUN = "(lib, c) => lib.walk(c.settings, c.start, c.steps)"


def bowl_gap(module, cases):
    """The largest relative gap between the JavaScript's and dismantle's points and values over ``cases``."""
    gap = 0.0
    for case, js in zip(cases, run_node(BOWL_RUN, module, cases), strict=True):
        path, values, diverged = dismantle_walk(**case)
        if js["diverged"] != diverged or len(js["path"]) != len(path):
            return np.inf  # stopped at another step: as wrong as a wrong number
        gap = max(gap, worst(js["path"], path), worst(js["values"], values))
    return gap


def test_bowl_paths_equal_dismantle():
    cases = bowl_cases()
    assert len(cases) == 270  # 10 rates x (11 SGD + 16 Adam settings)
    gap = bowl_gap(BOWL, cases)
    print(f"bowl: {len(cases)} walks of 100 steps, largest relative gap {gap:.1e}")
    assert gap <= TOL
    diverged = sum(dismantle_walk(**c)[2] for c in cases)
    assert 0 < diverged < len(cases)  # the sample crosses the speed limit, and stays under it too


BOWL_FAULTS = {
    "momentum sign": ("state.buf[i] += g[i];", "state.buf[i] -= g[i];"),
    "nesterov look-ahead": ("g[i] + s.momentum * state.buf[i]", "s.momentum * state.buf[i]"),
    "adam bias correction": ("s.lr / (1 - s.beta1 ** state.steps)", "s.lr"),
    "adam second moment": ("(1 - s.beta2) * g[i] * g[i]", "(1 - s.beta2) * g[i]"),
    "steep gradient": ("10.0 * p[1]", "10.5 * p[1]"),
}


@pytest.mark.parametrize("fault", BOWL_FAULTS)
def test_bowl_planted_fault_is_caught(tmp_path, fault):
    module = planted(tmp_path, "bowl.js", *BOWL_FAULTS[fault])
    assert bowl_gap(module, bowl_cases()) > 1e3 * TOL


def limit_cases():
    """Every momentum notch of the slider, with and without Nesterov, and Adam."""
    cases = [dict(optimizer="adam", momentum=0.0, nesterov=False)]
    for k in range(20):
        momentum = slider(0, 0.05, k, 2)
        for nesterov in ([False, True] if momentum else [False]):
            cases.append(dict(optimizer="sgd", momentum=momentum, nesterov=nesterov))
    return cases


def chapter_limit(case, a=10.0):
    """The speed limits the Gradient descent chapter derives (and its exercise, for Nesterov)."""
    mu = case["momentum"]
    if case["optimizer"] == "adam":
        return None
    return 2 * (1 + mu) / ((1 + 2 * mu) * a) if case["nesterov"] else 2 * (1 + mu) / a


def growth(case, lr, steps=1000):
    """f after ``steps`` of dismantle.SGD on the bowl, over f at the start."""
    path, values, _ = dismantle_walk(dict(case, lr=lr), [-4.5, 1.6], steps)
    return values[-1] / values[0]


def limit_errors(module):
    """Where the page's speed limit is not the chapter's, or dismantle does not settle under it and leave over it."""
    cases = limit_cases()
    errors = []
    for case, js in zip(cases, run_node("(lib, c) => lib.speedLimit(c)", module, cases), strict=True):
        want = chapter_limit(case)
        if (js is None) != (want is None) or (want is not None and abs(js - want) > 1e-15):
            errors.append(f"{case}: page {js}, chapter {want}")
        elif js is not None and not (growth(case, 0.98 * js) < 1e-3 and growth(case, 1.02 * js) > 1e3):
            errors.append(f"{case}: dismantle does not settle under {js} and leave over it")
    return errors


def test_bowl_speed_limit_is_the_chapters_and_holds():
    assert limit_errors(BOWL) == []


LIMIT_FAULTS = {
    "nesterov taken for momentum": ("if (settings.nesterov && mu !== 0) return", "if (false) return"),
    "momentum ignored": ("const mu = settings.momentum || 0;", "const mu = 0;"),
    "adam given a limit": ('if (settings.optimizer === "adam") return null;', ""),
}


@pytest.mark.parametrize("fault", LIMIT_FAULTS)
def test_bowl_planted_speed_limit_fault_is_caught(tmp_path, fault):
    assert limit_errors(planted(tmp_path, "bowl.js", *LIMIT_FAULTS[fault])) != []


# ---------------------------------------------------------------- the playground

PLAYGROUND = ASSETS / "playground.js"
DATA = ASSETS / "playground.json"
STEPS = 200


def load_explorables_data():
    import importlib.util

    spec = importlib.util.spec_from_file_location("explorables_data", ROOT / "scripts" / "explorables_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPORT = load_explorables_data()


def test_playground_data_is_regenerated_byte_for_byte():
    assert DATA.read_text(encoding="utf-8") == EXPORT.text(), (
        "docs/assets/explorables/playground.json is stale: "
        "python scripts/explorables_data.py docs/assets/explorables/playground.json")


def test_playground_data_is_the_chapter_spirals_and_dismantle_start():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    x, y = dm.make_spirals(100, noise=0.1, rng=np.random.default_rng(0))  # the Training chapter's exercise
    assert np.array_equal(np.array(data["x"]), x) and np.array_equal(np.array(data["y"]), y)
    for width in EXPORT.WIDTHS:
        for act in EXPORT.ACTIVATIONS:
            params = EXPORT.make_model(width, act).parameters()
            assert all(np.array_equal(np.array(a), p.data) for a, p in zip(data["init"][str(width)], params, strict=True))


def playground_cases():
    """Every width and activation the playground offers, at both ends of the learning-rate slider and between.

    The slider stops at 0.15: from 0.2 up, Tanh runs swing hard enough (momentum 0.9) that the
    last-bit differences between Math.tanh and np.tanh, and between summation orders, grow past
    1e-12 within 200 steps (1.6e-11 for width 16 at 0.3); up to 0.15 every gap stays near 1e-15.
    """
    return [dict(width=w, act=a, lr=lr) for w in EXPORT.WIDTHS for a in EXPORT.ACTIVATIONS for lr in (0.01, 0.05, 0.1, 0.15)]


@functools.cache
def dismantle_training(width, act, lr):
    """Full-batch training as the page does it: forward, loss, zero_grad, backward, SGD step."""
    x, y = EXPORT.spirals()
    model, loss_fn = EXPORT.make_model(width, act), dm.CrossEntropyLoss()
    opt = dm.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _ in range(STEPS):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        model.backward(loss_fn.backward())
        opt.step()
        losses.append(loss)
    return losses, [p.data for p in model.parameters()]


PLAYGROUND_RUN = (f"(lib, c) => {{ const d = require({json.dumps(str(DATA))}); "
                  f"return lib.train(d, d.init[String(c.width)], c.act, c.lr, {STEPS}); }}")


def playground_gap(module, cases):
    """The largest relative gap between the JavaScript's and dismantle's losses and weights over ``cases``."""
    loss_gap = weight_gap = 0.0
    for case, js in zip(cases, run_node(PLAYGROUND_RUN, module, cases), strict=True):
        losses, params = dismantle_training(**case)
        loss_gap = max(loss_gap, worst(js["losses"], losses))
        weight_gap = max(weight_gap, *(worst(a, p) for a, p in zip(js["params"], params, strict=True)))
    return loss_gap, weight_gap


def test_playground_training_equals_dismantle():
    cases = playground_cases()
    loss_gap, weight_gap = playground_gap(PLAYGROUND, cases)
    print(f"playground: {len(cases)} settings x {STEPS} steps, largest relative gap: "
          f"losses {loss_gap:.1e}, weights {weight_gap:.1e}")
    assert loss_gap <= TOL and weight_gap <= TOL
    losses, _ = dismantle_training(8, "relu", 0.1)
    assert losses[-1] < 0.2 * losses[0]  # the setting the page starts with learns within the compared steps


PLAYGROUND_FAULTS = {
    "tanh derivative": ("g * (1 - a * a)", "g * (1 - a)"),
    "relu mask": ("g * (a > 0 ? 1 : 0)", "g * (a >= 0 ? 1 : 0)"),
    "momentum": ("bufRows[r][i] *= MOMENTUM;", "bufRows[r][i] *= 0.89;"),
    "mean of the loss": ("const scale = 1.0 / n;", "const scale = 1.0 / (n - 1);"),
    "bias gradient": ("g.reduce((s, gk) => s + gk[o], 0)", "g.reduce((s, gk) => s + gk[o], 1e-9)"),
    "log-softmax": ("const logp = shifted.map((v) => v - logSum);", "const logp = shifted.map((v) => v - 0.5 * logSum);"),
}


@pytest.mark.parametrize("fault", PLAYGROUND_FAULTS)
def test_playground_planted_fault_is_caught(tmp_path, fault):
    module = planted(tmp_path, "playground.js", *PLAYGROUND_FAULTS[fault])
    one_of_each = [dict(width=8, act="tanh", lr=0.1), dict(width=8, act="relu", lr=0.1)]  # keeps the test fast
    assert max(playground_gap(module, one_of_each)) > 1e3 * TOL


# ---------------------------------------------------------------- the live graph

GRAPH = ASSETS / "graph.js"
GRAPH_RUN = "(lib, c) => lib.run(c)"


def field(rng, size):
    """Values a number field offers (step 0.1, from -5 to 5), as the page reads them."""
    return [float(f"{k / 10:.1f}") for k in rng.integers(-50, 51, size=size)]


def seed_cases(n=120):
    """The chapter's seed network, then sampled inputs, weights, biases and labels (fields' ends included)."""
    rng = np.random.default_rng(0)
    cases = [dict(x=[0.9, 0.5, 0.3], W=[[0.2, 0.1, 0.4], [0.5, 0.6, 0.1], [0.1, 0.7, 0.2]], b=[0.1, 0.2, 0.1], y=2),
             dict(x=[5.0, 5.0, 5.0], W=[[5.0] * 3, [-5.0] * 3, [0.0] * 3], b=[5.0, -5.0, 0.0], y=1)]  # p_y near 1e-70
    for _ in range(n):
        cases.append(dict(x=field(rng, 3), W=[field(rng, 3) for _ in range(3)], b=field(rng, 3), y=int(rng.integers(3))))
    return cases


def seed_values(s, lib):
    """The seed network's every node, value and gradient, by dismantle.autograd (lib="dm") or torch."""
    x_np, W_np, b_np, y = np.array([s["x"]]), np.array(s["W"]), np.array(s["b"]), s["y"]
    if lib == "dm":
        from dismantle.autograd import Tensor

        x, W, b = (Tensor(v, requires_grad=True) for v in (x_np, W_np, b_np))
        z = x @ W.T + b
        p = z.log_softmax().exp()
        loss = -(p[0, y].log())
        loss.backward()
        grad = lambda t: t.grad  # noqa: E731  dismantle keeps every intermediate gradient
    else:
        import torch

        x, W, b = (torch.tensor(v, requires_grad=True) for v in (x_np, W_np, b_np))
        z = x @ W.T + b
        p = torch.softmax(z, dim=1)
        loss = -torch.log(p[0, y])
        for t in (z, p):
            t.retain_grad()
        loss.backward()
        grad = lambda t: t.grad.numpy()  # noqa: E731
    data = lambda t: np.asarray(t.data)  # noqa: E731
    out = {"L": (float(data(loss)), 1.0)}
    for i in range(3):
        out[f"x{i}"] = (data(x)[0, i], grad(x)[0, i])
        for name, t in (("z", z), ("p", p)):
            out[f"{name}{i}"] = (data(t)[0, i], grad(t)[0, i])
        out[f"b{i}"] = (data(b)[i], grad(b)[i])
        for k in range(3):
            out[f"W{i}{k}"] = (data(W)[i, k], grad(W)[i, k])
    return out


PRESET_VALUES = {"square": ("x",), "neuron": ("x0", "w0", "x1", "w1", "x2", "w2", "b"), "tanh": ("x",)}


def preset_graph(name, v, lib):
    """The Autograd chapter's presets, written again in Python: {node name: tensor}, and the root."""
    if lib == "dm":
        from dismantle.autograd import Tensor

        var, const = (lambda a: Tensor(a, requires_grad=True)), Tensor
    else:
        import torch

        var = lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True)  # noqa: E731
        const = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    t = {k: var(v[k]) for k in PRESET_VALUES[name]}
    if name == "square":
        t["m"] = t["x"] * t["x"]
        t["f"] = t["m"] + t["x"]
        return t, t["f"]
    if name == "neuron":
        for i in range(3):
            t[f"p{i}"] = t[f"x{i}"] * t[f"w{i}"]
        t["s01"] = t["p0"] + t["p1"]
        t["s012"] = t["s01"] + t["p2"]
        t["z"] = t["s012"] + t["b"]
        return t, t["z"]
    t.update(two=const(2.0), minus=const(-1.0), one=const(1.0))
    t["u"] = t["two"] * t["x"]
    t["e"] = t["u"].exp()
    t["num"] = t["e"] + t["minus"]
    t["den"] = t["e"] + t["one"]
    t["t"] = t["num"] / t["den"]
    return t, t["t"]


def preset_values(name, v, lib):
    """Every node's value and gradient (None for a constant), and dismantle's topological order."""
    t, root = preset_graph(name, v, lib)
    if lib == "torch":
        for tensor in t.values():
            if tensor.requires_grad and not tensor.is_leaf:
                tensor.retain_grad()
    root.backward()
    out = {k: (float(tensor.data), None if tensor.grad is None else float(tensor.grad)) for k, tensor in t.items()}
    if lib == "dm":
        from dismantle.autograd import _topological_order

        names = {id(tensor): k for k, tensor in t.items()}
        return out, [names[id(n)] for n in _topological_order(root)]
    return out, None


def preset_cases(n=40):
    rng = np.random.default_rng(1)
    cases = [dict(graph=name, values={k: float(v) for k, v in zip(keys, [3.0, 0.9, 0.2, 0.5, 0.1, 0.3, 0.4, 0.1])})
             for name, keys in PRESET_VALUES.items()]
    cases[1]["values"] = dict(x0=0.9, w0=0.2, x1=0.5, w1=0.1, x2=0.3, w2=0.4, b=0.1)  # the chapter's crumbs
    cases[2]["values"] = dict(x=0.5)
    for _ in range(n):
        for name, keys in PRESET_VALUES.items():
            cases.append(dict(graph=name, values=dict(zip(keys, field(rng, len(keys))))))
    return cases


def graph_cases():
    return [dict(graph="seed", settings=s) for s in seed_cases()] + preset_cases()


@functools.cache
def graph_references():
    """For every case: dismantle's and torch's nodes, and dismantle's order (None for the seed network)."""
    out = []
    for case in graph_cases():
        if case["graph"] == "seed":
            out.append(([seed_values(case["settings"], "dm"), seed_values(case["settings"], "torch")], None))
        else:
            ours, order = preset_values(case["graph"], case["values"], "dm")
            out.append(([ours, preset_values(case["graph"], case["values"], "torch")[0]], order))
    return out


def graph_gap(module):
    """The largest relative gap between the page's values and gradients and dismantle's and torch's,
    and the cases where its topological order is not dismantle's."""
    cases = graph_cases()
    gap, wrong_order = 0.0, []
    for case, js, (refs, order) in zip(cases, run_node(GRAPH_RUN, module, cases), graph_references(), strict=True):
        nodes = {n["name"]: n for n in js["nodes"]}
        for ref in refs:
            if set(ref) != set(nodes):
                return np.inf, [f"{case}: nodes {sorted(nodes)} against {sorted(ref)}"]
            for name, (value, grad) in ref.items():
                gap = max(gap, worst(nodes[name]["value"], value))
                if grad is not None:
                    gap = max(gap, worst(nodes[name]["grad"], grad))
        if order is not None and js["order"] != order:
            wrong_order.append(f"{case['graph']}: page {js['order']}, dismantle {order}")
    return gap, wrong_order


def test_graph_values_and_gradients_equal_dismantle_and_torch():
    gap, wrong_order = graph_gap(GRAPH)
    print(f"graph: {len(seed_cases())} seed networks, {len(preset_cases())} preset settings, "
          f"largest relative gap {gap:.1e}")
    assert gap <= TOL
    assert wrong_order == []


def test_graph_samples_reach_the_cases_that_matter():
    """Every label, a confidently wrong network (p_y below 1e-20), and tanh's saturated ends."""
    seeds = seed_cases()
    assert {s["y"] for s in seeds} == {0, 1, 2}
    assert min(seed_values(s, "dm")[f"p{s['y']}"][0] for s in seeds) < 1e-20
    xs = [c["values"]["x"] for c in preset_cases() if c["graph"] == "tanh"]
    assert min(xs) < -3 and max(xs) > 3


GRAPH_FAULTS = {
    "mul local derivative": ("n.parents[1 - k].value }, // d(ab)/da = b", "n.parents[k].value }, // d(ab)/da = b"),
    "neuron local derivative": ("n.parents[k ^ 1].value", "n.parents[k].value"),
    "softmax Jacobian": ("((j === n.k ? 1 : 0) - p[j])", "((j === n.k ? 1 : 0) - p[n.k])"),
    "division local derivative": ("-(n.parents[0].value / n.parents[1].value) / n.parents[1].value",
                                  "(n.parents[0].value / n.parents[1].value) / n.parents[1].value"),
    "cross-entropy local derivative": ("-1 / n.parents[0].value", "1 / n.parents[0].value"),
    "missing accumulation": ("p.grad += part;", "p.grad = part;"),
    "reversed order": ("g.order.slice().reverse()", "g.order.slice()"),
}


@pytest.mark.parametrize("fault", GRAPH_FAULTS)
def test_graph_planted_fault_is_caught(tmp_path, fault):
    gap, _ = graph_gap(planted(tmp_path, "graph.js", *GRAPH_FAULTS[fault]))
    assert gap > 1e3 * TOL


def test_graph_planted_order_fault_is_caught(tmp_path):
    """Parents visited last to first: still a topological order (the gradients stay right), not dismantle's."""
    module = planted(tmp_path, "graph.js", "for (const p of n.parents) visit(p);",
                     "for (const p of n.parents.slice().reverse()) visit(p);")
    gap, wrong_order = graph_gap(module)
    assert gap <= TOL and wrong_order != []


def graph_train_cases():
    """The chapter's network at the page's η, then five sampled networks at four rates up to the field's end."""
    cases = [dict(settings=seed_cases(0)[0], lr=0.5)]
    for lr in (0.05, 0.5, 1.0, 2.0):
        for s in seed_cases(5)[2:]:
            cases.append(dict(settings=s, lr=lr))
    return cases


def dismantle_seed_training(settings, lr, steps):
    layer, loss_fn = dm.Linear(3, 3), dm.CrossEntropyLoss()
    layer.weight.data[...] = settings["W"]
    layer.bias.data[...] = settings["b"]
    opt = dm.SGD(layer.parameters(), lr=lr)
    x, y = np.array([settings["x"]]), np.array([settings["y"]])
    losses = []
    for _ in range(steps):
        losses.append(loss_fn(layer(x), y))
        opt.zero_grad()
        layer.backward(loss_fn.backward())
        opt.step()
    return losses, layer.weight.data, layer.bias.data


def graph_train_gap(module, steps=20):
    cases = graph_train_cases()
    gap = 0.0
    js_run = f"(lib, c) => lib.train(c.settings, c.lr, {steps})"
    for case, js in zip(cases, run_node(js_run, module, cases), strict=True):
        losses, W, b = dismantle_seed_training(case["settings"], case["lr"], steps)
        gap = max(gap, worst(js["losses"], losses), worst(js["W"], W), worst(js["b"], b))
    return gap


def test_graph_sgd_steps_equal_dismantle():
    gap = graph_train_gap(GRAPH)
    print(f"graph: {len(graph_train_cases())} runs of 20 SGD steps, largest relative gap {gap:.1e}")
    assert gap <= TOL
    losses, _, _ = dismantle_seed_training(seed_cases(0)[0], 0.5, 2)
    assert losses[1] < losses[0]  # the page's first step (the chapter's network, η = 0.5) lowers the loss


def test_graph_planted_step_fault_is_caught(tmp_path):
    module = planted(tmp_path, "graph.js", "n.value -= lr * n.grad;", "n.value -= lr * n.grad * 0.999;")
    assert graph_train_gap(module) > 1e3 * TOL
