"""Figures for the Autograd chapter: the graph `dismantle.autograd` records for the page's first neuron.

Nothing here is typed in by hand: the script runs the page's first example with
`dismantle.autograd.Tensor`, calls `backward()`, and walks the recorded graph from the output
through each tensor's `_parents`. Nodes, edges, values and gradients all come from that walk,
so the picture cannot drift from the engine (``tests/test_fig_autograd.py`` checks it against
torch and against the numbers in the SVG).
"""

from dataclasses import dataclass, field

import numpy as np
from figstyle import MIN_PT, PHONE_IN, canvas, with_narrow
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from dismantle.autograd import Tensor

BLUE, ORANGE, TEAL, GREY = "#3949ab", "#e65100", "#00897b", "#555555"
SYMBOL = {"mul": "×", "add": "+"}


@dataclass
class Node:
    """One tensor of the walked graph: its name, operation, value, gradient and place."""

    name: str
    op: str
    value: float
    grad: float | None
    parents: list = field(default_factory=list)
    col: float = 0.0
    row: float = 0.0


def neuron():
    """The page's first example, operation by operation; returns the output and names of the leaves."""
    x0, x1, x2 = (Tensor(v) for v in (0.9, 0.5, 0.3))
    w0, w1, w2 = (Tensor(v, requires_grad=True) for v in (0.2, 0.1, 0.4))
    b = Tensor(0.1, requires_grad=True)
    z = ((x0 * w0 + x1 * w1) + x2 * w2) + b
    z.backward()
    names = {id(t): n for t, n in ((x0, "x₀"), (x1, "x₁"), (x2, "x₂"), (w0, "w₀"), (w1, "w₁"), (w2, "w₂"),
                                   (b, "b"), (z, "z"))}
    return z, names


def walk(root, names):
    """Every tensor ``root`` was made from, parents before children, as ``Node``s laid out on a grid.

    A node's column is its depth (a leaf sits just before the first operation that uses it);
    leaves take one row each in the order the walk meets them, an operation the mean row of
    its inputs.
    """
    nodes, seen = [], {}

    def visit(t):
        if id(t) in seen:
            return seen[id(t)]
        parents = [visit(p) for p in t._parents]
        grad = None if t.grad is None else float(t.grad)
        node = Node(names.get(id(t), t._op), t._op, float(t.data), grad, parents)
        seen[id(t)] = node
        nodes.append(node)
        return node

    visit(root)
    leaves = [n for n in nodes if not n.parents]
    for row, leaf in enumerate(leaves):
        leaf.row = row
    for n in nodes:
        if n.parents:
            n.col = 1 + max(p.col if p.parents else 0 for p in n.parents)
            n.row = float(np.mean([p.row for p in n.parents]))
    for n in nodes:
        for p in n.parents:
            if not p.parents:
                p.col = n.col - 1
    return nodes


def number(v):
    """A value as the figure writes it: up to four significant digits, no float noise."""
    return f"{round(v, 4):.4g}"


def labels(nodes):
    """Every number the figure writes, in drawing order: each edge's value, then its gradient if any."""
    out = []
    for n in nodes:
        out.append(number(n.value))
        if n.grad is not None:
            out.append(number(n.grad))
    return out


def draw_graph(fig, narrow=False, nodes=None):
    """Leaves on the left, operations to the right; on each edge the value (blue) and gradient (orange).

    Axis units are inches; the phone rendering uses the same layout on a tighter grid.
    """
    nodes = nodes if nodes is not None else walk(*neuron())
    dx, dy, font = (0.5, 0.62, MIN_PT + 0.5) if narrow else (1.12, 0.5, 11)
    first = 0.8 if narrow else dx  # leaves to the first operations: room for both labels
    cols, rows = max(n.col for n in nodes) + 1, max(n.row for n in nodes) + 1
    width, height = (PHONE_IN, dy * rows + 0.8) if narrow else (dx * (cols + 0.7) + 0.4, dy * rows + 0.9)
    ax = canvas(fig, width, height)
    where = {id(n): (0.22 + (first + dx * (n.col - 1) if n.col else 0), height - 0.3 - dy * n.row) for n in nodes}
    r = 0.13 if narrow else 0.17
    for n in nodes:
        x, y = where[id(n)]
        if n.parents:
            ax.add_patch(Circle((x, y), r, facecolor="white", edgecolor=TEAL, linewidth=1.8))
            ax.text(x, y, SYMBOL[n.op], ha="center", va="center", fontsize=font + 1)
        else:
            ax.add_patch(FancyBboxPatch((x - r, y - r * 0.8), 2 * r, 1.6 * r, boxstyle="round,pad=0.02",
                                        facecolor="white", edgecolor=BLUE, linewidth=1.6))
            ax.text(x, y, n.name, ha="center", va="center", fontsize=font)
        for p in n.parents:
            _edge(ax, p, where[id(p)], (x, y), r, font)
    root = nodes[-1]
    x, y = where[id(root)]
    _edge(ax, root, (x, y), (x + (0.6 if narrow else 0.84), y), r, font, arrow_to_text=True)
    ax.text(x + (0.6 if narrow else 0.84) + 0.04, y, root.name, ha="left", va="center", fontsize=font + 1)
    legend = ("values flow right (blue); gradients ∂z/∂· flow back (orange);\n"
              "x has no gradient: it was made without requires_grad")
    if narrow:
        legend = "values (blue) flow right;\ngradients ∂z/∂· (orange) flow back;\nx needs no gradient"
    ax.text(0.08, 0.08, legend, ha="left", va="bottom", fontsize=MIN_PT, color="#222222", linespacing=1.2)


def _edge(ax, node, start, end, r, font, arrow_to_text=False):
    """An arrow from ``node`` to its user, the node's value above it and its gradient below."""
    (x0, y0), (x1, y1) = start, end
    d = np.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / d, (y1 - y0) / d
    a = (x0 + ux * r * 1.1, y0 + uy * r * 1.1)
    b = (x1 - ux * (0.02 if arrow_to_text else r * 1.1), y1 - uy * (0.02 if arrow_to_text else r * 1.1))
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, color=GREY, linewidth=1.2,
                                 shrinkA=0, shrinkB=0))
    mx, my = a[0] + 0.5 * (b[0] - a[0]), a[1] + 0.5 * (b[1] - a[1])
    box = dict(facecolor="white", edgecolor="none", pad=0.6, alpha=0.85)
    ax.text(mx, my + 0.02, number(node.value), ha="center", va="bottom", fontsize=font, color=BLUE, bbox=box)
    if node.grad is not None:
        ax.text(mx, my - 0.02, number(node.grad), ha="center", va="top", fontsize=font, color=ORANGE, bbox=box)


FIGURES = with_narrow({"autograd-graph.svg": draw_graph})
