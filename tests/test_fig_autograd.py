"""The autograd chapter's graph figure is the engine's own graph, with torch's numbers on it."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import fig_autograd as fig  # noqa: E402
import figstyle  # noqa: E402

TOL = dict(rtol=1e-12, atol=1e-15)


def torch_neuron():
    """The page's first example in float64 torch, every intermediate kept, by the figure's names."""
    x = [torch.tensor(v, dtype=torch.float64) for v in (0.9, 0.5, 0.3)]
    w = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.2, 0.1, 0.4)]
    b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    p = [xi * wi for xi, wi in zip(x, w)]
    s01 = p[0] + p[1]
    s012 = s01 + p[2]
    z = s012 + b
    for t in (*p, s01, s012, z):
        t.retain_grad()
    z.backward()
    return {"x": x, "w": w, "b": b, "p": p, "s01": s01, "s012": s012, "z": z}


def svg_texts(nodes, narrow=False):
    """The text elements of the figure drawn from ``nodes``, as the SVG file holds them."""
    import io

    import matplotlib.pyplot as plt

    with plt.rc_context(figstyle.RC):
        figure = figstyle.new_figure()
        fig.draw_graph(figure, narrow=narrow, nodes=nodes)
        out = io.StringIO()
        figure.savefig(out, format="svg")
        plt.close(figure)
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", out.getvalue())]


def numbers_drawn(texts):
    return sorted(t for t in texts if re.fullmatch(r"-?\d+(\.\d+)?", t))


def test_the_walk_finds_the_pages_operations():
    nodes = fig.walk(*fig.neuron())
    assert [n.op for n in nodes].count("mul") == 3 and [n.op for n in nodes].count("add") == 3
    assert sorted(n.name for n in nodes if not n.parents) == sorted(["x₀", "x₁", "x₂", "w₀", "w₁", "w₂", "b"])
    assert nodes[-1].name == "z" and all(len(n.parents) == 2 for n in nodes if n.parents)


def test_every_value_and_gradient_on_the_graph_is_torchs():
    nodes = fig.walk(*fig.neuron())
    t = torch_neuron()
    by_op = {"mul": t["p"], "add": [t["s01"], t["s012"], t["z"]]}
    leaves = {"x₀": t["x"][0], "x₁": t["x"][1], "x₂": t["x"][2], "w₀": t["w"][0], "w₁": t["w"][1], "w₂": t["w"][2],
              "b": t["b"]}
    seen = {"mul": 0, "add": 0}
    for n in nodes:
        if n.parents:
            tensor = by_op[n.op][seen[n.op]]
            seen[n.op] += 1
        else:
            tensor = leaves[n.name]
        np.testing.assert_allclose(n.value, tensor.item(), **TOL, err_msg=f"{n.name} value")
        if tensor.requires_grad:
            np.testing.assert_allclose(n.grad, tensor.grad.item(), **TOL, err_msg=f"dz/d{n.name}")
        else:
            assert n.grad is None, f"{n.name} has no gradient in torch either"


@pytest.mark.parametrize("narrow", [False, True])
def test_the_numbers_in_the_svg_are_the_walks(narrow):
    nodes = fig.walk(*fig.neuron())
    assert numbers_drawn(svg_texts(nodes, narrow)) == sorted(fig.labels(nodes))


def test_a_figure_drifting_from_the_engine_is_caught():
    nodes = fig.walk(*fig.neuron())
    drawn = numbers_drawn(svg_texts(nodes))
    z, names = fig.neuron()
    z._parents[1].data = np.array(0.2)  # plant: b changed after the forward pass
    assert numbers_drawn(svg_texts(fig.walk(z, names))) != drawn
    assert sorted(fig.labels(nodes)) == drawn


def test_the_alt_text_numbers_are_on_the_figure():
    page = (ROOT / "docs" / "autograd.md").read_text(encoding="utf-8")
    alt = re.search(r"!\[([^\]]*)\]\(figures/autograd-graph\.svg\)", page)[1]
    drawn = set(fig.labels(fig.walk(*fig.neuron())))
    stated = re.findall(r"\d+(?:\.\d+)?", alt.replace("₀", "").replace("₁", "").replace("₂", ""))
    assert stated and set(stated) <= drawn, sorted(set(stated) - drawn)
