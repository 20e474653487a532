// The live graph explorable: a computation graph whose values and gradients update as the reader
// changes its inputs. Backpropagation chapter: the seed network (x, W, b, z, softmax, cross-entropy),
// <div data-explorable="graph" data-graph="seed">. Autograd chapter: a few preset expressions,
// <div data-explorable="graph" data-graph="presets">, with their topological order.
//
// The pure part (the nodes, forward, topologicalOrder, backward, pass, sgdStep) is a scalar
// reverse-mode engine written like dismantle.autograd (src/dismantle/autograd.py): each node
// knows its parents and the local derivative of its value with respect to each one; backward
// walks the nodes in reverse topological order (the same depth-first order dismantle builds) and
// adds the node's gradient times each local derivative into each parent. tests/test_explorables.py
// runs it in Node on sampled settings and compares every value and gradient with dismantle.autograd
// and torch to 1e-12, and the SGD steps with dismantle.SGD. No framework, no request to another host.
(function () {
  "use strict";
  const script = typeof document !== "undefined" ? document.currentScript : null;

  // ------------------------------------------------------------------ the math (tested)

  function softmax(z) {
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const total = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / total);
  }

  // Each operation: its value from its parents' values, and its local derivative with respect to
  // parent k (the ratio of one gear in the Backpropagation chapter's analogy).
  const OPS = {
    add: { forward: (v) => v[0] + v[1], local: () => 1 },
    mul: { forward: (v) => v[0] * v[1], local: (n, k) => n.parents[1 - k].value }, // d(ab)/da = b
    div: {
      forward: (v) => v[0] / v[1], // d(a/b)/da = 1/b, d(a/b)/db = -(a/b)/b (torch's order)
      local: (n, k) => (k === 0 ? 1 / n.parents[1].value : -(n.parents[0].value / n.parents[1].value) / n.parents[1].value),
    },
    exp: { forward: (v) => Math.exp(v[0]), local: (n) => n.value }, // its own derivative
    // z_j = x0 W_j0 + x1 W_j1 + x2 W_j2 + b_j, parents [x0, W_j0, x1, W_j1, x2, W_j2, b_j]:
    // dz/dx_i = W_ji, dz/dW_ji = x_i (the other factor of the pair), dz/db = 1
    neuron: {
      forward: (v) => v[0] * v[1] + v[2] * v[3] + v[4] * v[5] + v[6],
      local: (n, k) => (k === 6 ? 1 : n.parents[k ^ 1].value),
    },
    // p_k = softmax(z)_k, parents [z0, z1, z2]: dp_k/dz_j = p_k (δ_kj - p_j), the Jacobian's row k
    softmax: {
      forward: (v, n) => softmax(v)[n.k],
      local: (n, j) => {
        const p = softmax(n.parents.map((q) => q.value));
        return p[n.k] * ((j === n.k ? 1 : 0) - p[j]);
      },
    },
    nll: { forward: (v) => -Math.log(v[0]), local: (n) => -1 / n.parents[0].value }, // L = -log p_y
  };

  function leaf(name, label, value, extra) {
    return Object.assign({ name, label, op: "leaf", parents: [], value, grad: 0 }, extra);
  }

  function node(name, label, op, parents, extra) {
    return Object.assign({ name, label, op, parents, value: NaN, grad: 0 }, extra);
  }

  // Every node `root` depends on, parents before children: the depth-first walk of
  // dismantle.autograd._topological_order, parents taken in order.
  function topologicalOrder(root) {
    const order = [], seen = new Set();
    (function visit(n) {
      if (seen.has(n)) return;
      seen.add(n);
      for (const p of n.parents) visit(p);
      order.push(n); // a node goes in only after everything it was made from
    })(root);
    return order;
  }

  function graph(nodes, root) {
    const g = { nodes, root, order: topologicalOrder(root), byName: {} };
    for (const n of nodes) g.byName[n.name] = n;
    forward(g);
    return g;
  }

  function forward(g) { // `nodes` lists parents before children
    for (const n of g.nodes) {
      if (n.op !== "leaf") n.value = OPS[n.op].forward(n.parents.map((p) => p.value), n);
    }
  }

  // The order backward visits the nodes in: the topological order, from its end.
  const backwardOrder = (g) => g.order.slice().reverse();

  // One node's backward step: its gradient times each local derivative, added into each parent.
  function pass(n) {
    return n.parents.map((p, k) => {
      const local = OPS[n.op].local(n, k);
      const part = n.grad * local;
      p.grad += part;
      return { parent: p, k, local, part, total: p.grad };
    });
  }

  function startBackward(g) { // every gradient 0, then dL/dL = 1
    for (const n of g.nodes) n.grad = 0;
    g.root.grad = 1;
  }

  function backward(g) {
    startBackward(g);
    for (const n of backwardOrder(g)) pass(n);
  }

  // ---- the graphs

  const SUB = "₀₁₂₃₄₅₆₇₈₉";
  const sub = (s) => String(s).replace(/[0-9]/g, (d) => SUB[d]);
  const SEED = { x: [0.9, 0.5, 0.3], W: [[0.2, 0.1, 0.4], [0.5, 0.6, 0.1], [0.1, 0.7, 0.2]], b: [0.1, 0.2, 0.1], y: 2 };

  // The Backpropagation chapter's seed network: one example, one linear layer, softmax, cross-entropy.
  // `at` is [column, row] in the drawing.
  function seedNetwork(s) {
    const x = s.x.map((v, i) => leaf(`x${i}`, `x${sub(i)}`, v, { at: [0, 4 * i + 1.5] }));
    const nodes = [...x];
    const z = [];
    for (let j = 0; j < 3; j++) {
      const W = s.W[j].map((v, i) => leaf(`W${j}${i}`, `W${sub(j)}${sub(i)}`, v, { at: [1, 4 * j + i], param: true }));
      const b = leaf(`b${j}`, `b${sub(j)}`, s.b[j], { at: [1, 4 * j + 3], param: true });
      z.push(node(`z${j}`, `z${sub(j)}`, "neuron", [x[0], W[0], x[1], W[1], x[2], W[2], b], { at: [2, 4 * j + 1.5] }));
      nodes.push(...W, b);
    }
    const p = z.map((_, k) => node(`p${k}`, `p${sub(k)}`, "softmax", z, { k, at: [3, 4 * k + 1.5] }));
    const L = node("L", "L", "nll", [p[s.y]], { at: [4, 5.5] });
    return graph([...nodes, ...z, ...p, L], L);
  }

  // The Autograd chapter's presets, each a small expression of scalars. Constants take no gradient.
  const PRESETS = {
    square: {
      title: "x · x + x", values: { x: 3 },
      build(v) { // the chapter's f(x) = x x + x: x is used three times
        const x = leaf("x", "x", v.x, { at: [0, 0.5] });
        const m = node("m", "x·x", "mul", [x, x], { at: [1, 0] });
        const f = node("f", "f", "add", [m, x], { at: [2, 0.5] });
        return graph([x, m, f], f);
      },
    },
    neuron: {
      title: "one neuron", values: { x0: 0.9, w0: 0.2, x1: 0.5, w1: 0.1, x2: 0.3, w2: 0.4, b: 0.1 },
      build(v) { // the chapter's crumbs: z = x0 w0 + x1 w1 + x2 w2 + b, one operation at a time
        const L = (name, col, row) => leaf(name, name[0] + sub(name.slice(1)), v[name], { at: [col, row] });
        const [x0, w0, x1, w1, x2, w2] = ["x0", "w0", "x1", "w1", "x2", "w2"].map((name, r) => L(name, 0, r));
        const b = L("b", 2, 5);
        const p0 = node("p0", "p₀", "mul", [x0, w0], { at: [1, 0.5] });
        const p1 = node("p1", "p₁", "mul", [x1, w1], { at: [1, 2.5] });
        const p2 = node("p2", "p₂", "mul", [x2, w2], { at: [1, 4.5] });
        const s01 = node("s01", "s₀₁", "add", [p0, p1], { at: [2, 1.5] });
        const s012 = node("s012", "s₀₁₂", "add", [s01, p2], { at: [3, 3] });
        const z = node("z", "z", "add", [s012, b], { at: [4, 4] });
        return graph([x0, w0, x1, w1, x2, w2, b, p0, p1, p2, s01, s012, z], z);
      },
    },
    tanh: {
      title: "tanh from exp", values: { x: 0.5 },
      build(v) { // tanh x = (e - 1) / (e + 1) with e = exp(2x): e is used twice
        const two = leaf("two", "2", 2, { at: [0, 0], constant: true });
        const x = leaf("x", "x", v.x, { at: [0, 1] });
        const u = node("u", "2x", "mul", [two, x], { at: [1, 0.5] });
        const e = node("e", "e", "exp", [u], { at: [2, 1] });
        const minus = leaf("minus", "−1", -1, { at: [2, 0], constant: true });
        const one = leaf("one", "1", 1, { at: [2, 2], constant: true });
        const num = node("num", "e − 1", "add", [e, minus], { at: [3, 0.5] });
        const den = node("den", "e + 1", "add", [e, one], { at: [3, 1.5] });
        const t = node("t", "t", "div", [num, den], { at: [4, 1] });
        return graph([two, x, u, e, minus, one, num, den, t], t);
      },
    },
  };

  // One SGD step on the parameters (W and b): θ -= lr θ.grad, then forward and backward again.
  function sgdStep(g, lr) {
    for (const n of g.nodes) if (n.param) n.value -= lr * n.grad;
    forward(g);
    backward(g);
  }

  // For the tests: every node's name, value and gradient, and the topological order.
  function report(g) {
    return { nodes: g.nodes.map((n) => ({ name: n.name, value: n.value, grad: n.grad, constant: Boolean(n.constant) })),
      order: g.order.map((n) => n.name) };
  }

  function run(c) { // c: {graph: "seed", settings} or {graph: preset name, values}
    const g = c.graph === "seed" ? seedNetwork(c.settings) : PRESETS[c.graph].build(c.values);
    backward(g);
    return report(g);
  }

  function train(settings, lr, steps) { // the losses before each step, and W, b after the last
    const g = seedNetwork(settings);
    backward(g);
    const losses = [];
    for (let k = 0; k < steps; k++) {
      losses.push(g.root.value);
      sgdStep(g, lr);
    }
    const at = (name) => g.byName[name].value;
    return { losses, W: [0, 1, 2].map((j) => [0, 1, 2].map((i) => at(`W${j}${i}`))), b: [0, 1, 2].map((j) => at(`b${j}`)) };
  }

  const api = { OPS, PRESETS, SEED, softmax, topologicalOrder, forward, backward, backwardOrder, pass, seedNetwork, sgdStep, run, train };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api; // Node: the tests
    return;
  }

  // ------------------------------------------------------------------ the page

  const SVGNS = "http://www.w3.org/2000/svg";
  const COL = 74, ROW = 50, W = 68, H = 44, PAD = 4; // the drawing's grid, in SVG units (text is 14)
  const fmt = (v) => (Number.isFinite(v) ? (Math.abs(v) < 5e-5 ? 0 : v).toFixed(4).replace("-", "−") : String(v));
  const WHY = { // how each local derivative is read, for the walk's narration
    add: () => "1",
    mul: (n, k) => n.parents[1 - k].label,
    div: (n, k) => (k === 0 ? `1/(${n.parents[1].label})` : `−(${n.parents[0].label})/(${n.parents[1].label})²`),
    exp: (n) => n.label,
    neuron: (n, k) => (k === 6 ? "1" : n.parents[k ^ 1].label),
    softmax: (n, j) => (j === n.k ? `${n.label}(1 − ${n.label})` : `−${n.label}·p${sub(j)}`),
    nll: (n) => `−1/${n.parents[0].label}`,
  };

  function el(name, attrs, parent, ns) {
    const e = ns ? document.createElementNS(ns, name) : document.createElement(name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function numberField(parent, id, label, value) {
    const wrap = el("label", { class: "graph-field", for: id }, parent);
    wrap.append(label);
    return el("input", { type: "number", id, step: 0.1, min: -5, max: 5, value, inputmode: "decimal" }, wrap);
  }

  function build(box) {
    const kind = box.dataset.graph === "presets" ? "presets" : "seed";
    const id = (name) => `graph-${kind}-${name}`;
    box.textContent = "";
    box.classList.add("graph-explorable");
    const drawing = el("div", { class: "graph-drawing" }, box);
    el("p", { class: "graph-legend" }, drawing).innerHTML =
      'Each box: a node, its value, and <span class="graph-grad-key">∂L/∂node</span> once Backward has run. '
      + 'Walking one node at a time, the boxes that receive show <span class="graph-local-key">×</span> the local derivative in place of their value.';
    const svg = el("svg", { class: "explorable-plot graph-plot", "aria-hidden": "true" }, drawing, SVGNS);
    const order = kind === "presets" ? el("p", { class: "graph-order", id: id("order") }, drawing) : null;
    const side = el("div", { class: "explorable-controls" }, box);
    const fields = el("div", { class: "graph-fields" }, side);
    let preset = "square";
    if (kind === "presets") {
      const set = el("fieldset", {}, side);
      el("legend", {}, set).textContent = "Expression";
      for (const [name, p] of Object.entries(PRESETS)) {
        const label = el("label", {}, set);
        el("input", { type: "radio", name: id("preset"), value: name, id: id(name) }, label).checked = name === preset;
        label.append(" " + p.title);
      }
      side.insertBefore(set, fields);
    }
    let labelSet = null, lr = null;
    if (kind === "seed") {
      labelSet = el("fieldset", {}, side);
      el("legend", {}, labelSet).textContent = "Label y";
      for (const k of [0, 1, 2]) {
        const label = el("label", {}, labelSet);
        el("input", { type: "radio", name: id("y"), value: k, id: id(`y${k}`) }, label).checked = k === SEED.y;
        label.append(" " + k);
      }
      const row = el("div", { class: "graph-fields" }, side);
      lr = numberField(row, id("lr"), "learning rate η", 0.5);
      lr.min = 0.05; lr.max = 2; lr.step = 0.05;
    }
    const buttons = el("div", { class: "explorable-buttons" }, side);
    const button = (text) => { const b = el("button", { type: "button" }, buttons); b.textContent = text; return b; };
    const backButton = button("Backward");
    const walkButton = button("One node at a time");
    const nextButton = button("Next node");
    const stepButton = kind === "seed" ? button("SGD step") : null;
    const resetButton = button("Reset");
    const status = el("div", { class: "explorable-result graph-status", "aria-live": "polite", id: id("status") }, box);
    const table = el("table", { class: "graph-sr" }, box);

    let g, shown, walk, steps, boxes, edges;

    function settings() { return JSON.parse(JSON.stringify(SEED)); }

    function start() {
      g = kind === "seed" ? seedNetwork(settings()) : PRESETS[preset].build(PRESETS[preset].values);
      shown = false; walk = null; steps = 0;
      fields.textContent = "";
      for (const n of g.nodes) {
        if (n.op !== "leaf" || n.constant) continue;
        const input = numberField(fields, id(`in-${n.name}`), n.label, n.value);
        input.dataset.node = n.name;
      }
      if (labelSet) labelSet.querySelector(`input[value="${SEED.y}"]`).checked = true;
      draw();
    }

    function draw() { // the SVG, once per graph
      svg.textContent = "";
      const cols = Math.max(...g.nodes.map((n) => n.at[0])) + 1, rows = Math.max(...g.nodes.map((n) => n.at[1])) + 1;
      const width = cols * COL + 2 * PAD - (COL - W);
      svg.setAttribute("viewBox", `0 0 ${width} ${rows * ROW + 2 * PAD - (ROW - H)}`);
      svg.style.maxWidth = `${1.3 * width}px`; // a small graph is not blown up to the column's width
      const xy = (n) => [PAD + n.at[0] * COL, PAD + n.at[1] * ROW];
      const edgeLayer = el("g", {}, svg, SVGNS), nodeLayer = el("g", {}, svg, SVGNS);
      edges = [];
      for (const n of g.nodes) {
        n.parents.forEach((p, k) => {
          const twin = n.parents.indexOf(p) !== k || n.parents.lastIndexOf(p) !== k ? (n.parents.indexOf(p) === k ? -6 : 6) : 0;
          const [x1, y1] = xy(p), [x2, y2] = xy(n);
          const a = [x1 + W, y1 + H / 2 + twin], b = [x2, y2 + H / 2 + twin];
          const line = el("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "graph-edge" }, edgeLayer, SVGNS);
          edges.push({ child: n, line });
        });
      }
      boxes = {};
      for (const n of g.nodes) {
        const [x, y] = xy(n);
        const group = el("g", { class: "graph-node" + (n.constant ? " constant" : ""), "data-node": n.name }, nodeLayer, SVGNS);
        el("rect", { x, y, width: W, height: H, rx: 4 }, group, SVGNS);
        el("text", { x: x + 4, y: y + 13, class: "graph-name" }, group, SVGNS).textContent = n.label;
        const value = el("text", { x: x + W - 4, y: y + 26, "text-anchor": "end" }, group, SVGNS);
        const grad = el("text", { x: x + W - 4, y: y + 40, "text-anchor": "end", class: "graph-grad" }, group, SVGNS);
        boxes[n.name] = { group, value, grad };
      }
      table.textContent = "";
      el("caption", {}, table).textContent = "Every node's value and gradient";
      const head = el("tr", {}, el("thead", {}, table));
      for (const h of ["node", "value", "gradient ∂L/∂node"]) el("th", { scope: "col" }, head).textContent = h;
      const body = el("tbody", {}, table);
      for (const n of g.nodes) {
        const row = el("tr", {}, body);
        el("th", { scope: "row" }, row).textContent = n.label;
        boxes[n.name].cells = [el("td", {}, row), el("td", {}, row)];
      }
      if (order) order.textContent = "Topological order: " + g.order.map((n) => n.label).join(", ")
        + ". Backward walks it from the end.";
      show();
    }

    function show(message) { // every number, as text, from the graph's state
      const done = walk ? new Set(walk.queue.slice(0, walk.at).map((n) => n.name)) : null;
      const active = walk && walk.at > 0 ? walk.queue[walk.at - 1] : null;
      for (const n of g.nodes) {
        const b = boxes[n.name];
        const hasGrad = shown && !n.constant;
        const k = active ? active.parents.indexOf(n) : -1; // during the walk, a parent shows the local derivative
        b.value.textContent = k >= 0 ? "×" + fmt(OPS[active.op].local(active, k)) : fmt(n.value);
        b.value.classList.toggle("graph-local", k >= 0);
        b.grad.textContent = hasGrad ? fmt(n.grad) : "";
        b.group.dataset.value = String(n.value);
        b.group.dataset.grad = hasGrad ? String(n.grad) : "";
        b.group.classList.toggle("active", n === active);
        b.group.classList.toggle("done", Boolean(done && done.has(n.name) && n !== active));
        b.group.classList.toggle("receiving", Boolean(active && active.parents.includes(n)));
        b.cells[0].textContent = fmt(n.value);
        b.cells[1].textContent = hasGrad ? fmt(n.grad) : n.constant ? "constant, no gradient" : "not computed yet";
      }
      for (const e of edges) e.line.classList.toggle("active", e.child === active);
      if (kind === "seed") {
        for (const input of fields.querySelectorAll("input")) {
          const n = g.byName[input.dataset.node];
          if (Number(input.value) !== n.value && document.activeElement !== input) input.value = String(Number(n.value.toFixed(4)));
        }
      }
      nextButton.disabled = !walk || walk.at >= walk.queue.length;
      if (message !== undefined) status.replaceChildren(...[].concat(message));
      status.dataset.loss = String(g.root.value);
      status.dataset.steps = String(steps);
    }

    const rootName = () => (kind === "seed" ? "L" : g.root.label);
    const summary = () => `${rootName()} = ${fmt(g.root.value)}`;

    function narrate(n, parts) { // the chain rule at one node, as a paragraph and a list
      const lead = el("p");
      lead.textContent = `Step ${walk.at} of ${walk.queue.length}: ${n.label} passes back its gradient `
        + `∂L/∂${n.label} = ${fmt(n.grad)}, times each local derivative:`;
      const list = el("ul");
      for (const { parent, k, local, part, total } of parts) {
        const again = n.parents.indexOf(parent) !== k || parent.grad !== part;
        el("li", {}, list).textContent = `to ${parent.label}: ${fmt(n.grad)} × ${WHY[n.op](n, k)} (${fmt(local)}) = ${fmt(part)}`
          + (parent.constant ? ", a constant: dropped" : again ? `, added to what was there: now ${fmt(total)}` : "");
      }
      return [lead, list];
    }

    function full(message) {
      backward(g);
      shown = true; walk = null;
      show(message || `Forward: ${summary()}. Backward: every gradient shown.`);
    }

    fields.addEventListener("input", (event) => {
      const input = event.target, n = g.byName[input.dataset.node], v = input.valueAsNumber;
      if (!n || !Number.isFinite(v)) { input.setAttribute("aria-invalid", "true"); return; }
      input.removeAttribute("aria-invalid");
      n.value = v;
      forward(g);
      if (shown) {
        backward(g);
        walk = null;
        show(`${n.label} = ${fmt(v)}. Forward: ${summary()}. Backward: ∂L/∂${n.label} = ${fmt(n.grad)}.`);
      } else { walk = null; show(`${n.label} = ${fmt(v)}. Forward: ${summary()}. Press Backward for the gradients.`); }
    });
    if (labelSet) labelSet.addEventListener("change", (event) => {
      const keep = g.nodes.filter((n) => n.op === "leaf").map((n) => n.value);
      const s = settings();
      s.y = Number(event.target.value);
      g = seedNetwork(s);
      g.nodes.filter((n) => n.op === "leaf").forEach((n, i) => { n.value = keep[i]; });
      forward(g);
      const was = shown;
      walk = null;
      draw();
      if (was) full(`Label ${s.y}. Forward: ${summary()}. Backward: every gradient shown.`);
      else show(`Label ${s.y}. Forward: ${summary()}.`);
    });
    side.addEventListener("change", (event) => {
      if (event.target.name === id("preset")) { preset = event.target.value; start(); show(`${PRESETS[preset].title}: ${summary()}.`); }
    });
    backButton.addEventListener("click", () => full());
    walkButton.addEventListener("click", () => {
      startBackward(g);
      shown = true;
      walk = { queue: backwardOrder(g).filter((n) => n.parents.length), at: 0 };
      show(`∂L/∂${rootName()} = 1 to start. ${walk.queue.length} nodes pass a gradient back; press Next node.`);
      nextButton.focus();
    });
    nextButton.addEventListener("click", () => {
      if (!walk || walk.at >= walk.queue.length) return;
      const n = walk.queue[walk.at];
      walk.at += 1;
      const message = narrate(n, pass(n));
      if (walk.at === walk.queue.length) {
        message.push(el("p"));
        message[2].textContent = "Done: every gradient is in, the very numbers Backward computes.";
      }
      show(message);
    });
    if (stepButton) stepButton.addEventListener("click", () => {
      const rate = lr.valueAsNumber;
      if (!(rate > 0)) { lr.setAttribute("aria-invalid", "true"); return; }
      lr.removeAttribute("aria-invalid");
      if (!shown || walk) backward(g);
      const before = g.root.value;
      sgdStep(g, rate);
      steps += 1; shown = true; walk = null;
      const after = g.root.value;
      show(`SGD step ${steps} (η = ${rate}): every W and b moved against its gradient; L ${fmt(before)} → ${fmt(after)}, `
        + (after < before ? "it fell." : "it rose: η is too large here."));
    });
    resetButton.addEventListener("click", () => { start(); show(`Reset: ${summary()}.`); });
    start();
    box.hidden = false;
    show(`Forward: ${summary()}. Press Backward for the gradients.`);
  }

  const css = new URL("explorables.css", script.src).href;
  if (!document.querySelector(`link[href="${css}"]`)) el("link", { rel: "stylesheet", href: css }, document.head);
  for (const box of document.querySelectorAll("[data-explorable=graph]")) build(box);
})();
