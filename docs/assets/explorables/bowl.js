// The bowl explorable: gradient descent, momentum and Nesterov (Gradient descent chapter), and
// Adam (Adaptive steps chapter), walking down f(x, y) = (x² + 10 y²) / 2, redrawn as the sliders
// move. A page chooses its optimizers: <div data-explorable="bowl" data-optimizers="sgd adam">.
//
// The pure part (f, grad, sgdStep, adamStep, walk, speedLimit) follows dismantle.SGD and
// dismantle.Adam (src/dismantle/optim.py) line for line, in float64 like NumPy:
// tests/test_explorables.py runs it in Node and compares every path with dismantle's to 1e-12,
// and walks dismantle just under and just over every speed limit. The page part below only
// reads the controls and draws. No framework, no request to another host.
(function () {
  "use strict";

  // ------------------------------------------------------------------ the math (tested)

  const LIMIT = 1e12; // a walk whose f passes this has diverged: stop, before Infinity or NaN

  function f(p) {
    return 0.5 * (p[0] ** 2 + 10 * p[1] ** 2);
  }

  function grad(p) {
    return [1.0 * p[0], 10.0 * p[1]]; // the gradient (x, 10 y), as the chapter writes it
  }

  // dismantle.SGD.step with dampening 0 and no weight decay, one coordinate at a time.
  function sgdStep(p, g, state, s) {
    const first = state.buf === null;
    if (s.momentum !== 0 && first) state.buf = g.slice(); // first step: the buffer is the gradient
    for (let i = 0; i < p.length; i++) {
      let d = g[i];
      if (s.momentum !== 0) {
        if (!first) {
          state.buf[i] *= s.momentum;
          state.buf[i] += g[i];
        }
        d = s.nesterov ? g[i] + s.momentum * state.buf[i] : state.buf[i];
      }
      p[i] -= s.lr * d;
    }
  }

  // dismantle.Adam.step (no weight decay, no amsgrad): torch's order of operations.
  function adamStep(p, g, state, s) {
    state.steps += 1;
    const stepSize = s.lr / (1 - s.beta1 ** state.steps);
    const biasCorrection2Sqrt = (1 - s.beta2 ** state.steps) ** 0.5;
    for (let i = 0; i < p.length; i++) {
      state.m[i] *= s.beta1;
      state.m[i] += (1 - s.beta1) * g[i];
      state.v[i] *= s.beta2;
      state.v[i] += (1 - s.beta2) * g[i] * g[i];
      const denom = Math.sqrt(state.v[i]) / biasCorrection2Sqrt + s.eps;
      p[i] += (-stepSize * state.m[i]) / denom;
    }
  }

  // The first `steps` points after `start`: {path: [[x, y], ...] (start included), values: f at
  // each, diverged: true if the walk stopped early because f passed LIMIT}.
  function walk(settings, start, steps) {
    const s = Object.assign({ momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, settings);
    const p = start.slice();
    const state = { buf: null, steps: 0, m: [0, 0], v: [0, 0] };
    const path = [p.slice()];
    const values = [f(p)];
    for (let k = 0; k < steps; k++) {
      const g = grad(p);
      if (s.optimizer === "adam") adamStep(p, g, state, s);
      else sgdStep(p, g, state, s);
      path.push(p.slice());
      values.push(f(p));
      if (!(values[values.length - 1] <= LIMIT)) return { path, values, diverged: true };
    }
    return { path, values, diverged: false };
  }

  // The largest learning rate at which the walk still settles, set by the steep wall (curvature
  // a = 10; the shallow one allows ten times more). The Gradient descent chapter derives it:
  // 2/a plain, 2(1 + μ)/a with momentum, 2(1 + μ)/((1 + 2μ) a) with Nesterov. Adam has none (null):
  // its step is about η whatever the slope.
  function speedLimit(settings, a = 10) {
    if (settings.optimizer === "adam") return null;
    const mu = settings.momentum || 0;
    if (settings.nesterov && mu !== 0) return (2 * (1 + mu)) / ((1 + 2 * mu) * a);
    return (2 * (1 + mu)) / a;
  }

  const api = { f, grad, sgdStep, adamStep, walk, speedLimit, LIMIT };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api; // Node: the tests
    return;
  }

  // ------------------------------------------------------------------ the page

  const SVGNS = "http://www.w3.org/2000/svg";
  const X = [-5, 5], Y = [-2.4, 2.4]; // the chapter's figure frame
  const LEVELS = [0.125, 0.5, 1.25, 2.5, 5, 10, 20, 40];
  // [name, label, min, max, step, value, which optimizer shows it]
  const SLIDERS = [
    ["x0", "start x", -4.8, 4.8, 0.1, -4.5, "both"],
    ["y0", "start y", -2.2, 2.2, 0.1, 1.6, "both"],
    ["lr", "learning rate η", 0.005, 0.3, 0.005, 0.1, "both"],
    ["momentum", "momentum μ", 0, 0.95, 0.05, 0, "sgd"],
    ["beta1", "β₁", 0, 0.95, 0.05, 0.9, "adam"],
    ["beta2", "β₂", 0.5, 0.999, 0.001, 0.999, "adam"],
    ["steps", "steps N", 1, 100, 1, 30, "both"],
  ];

  function el(name, attrs, parent, ns) {
    const node = ns ? document.createElementNS(ns, name) : document.createElement(name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  // The note beside the learning-rate slider: which limit applies, its value, and where it is.
  function limitNote(s, limit, shown) {
    if (limit === null) return "Adam has no speed limit: its step is about η whatever the slope";
    const formula = s.nesterov ? "2(1 + μ)/((1 + 2μ) a)" : s.momentum ? "2(1 + μ)/a" : "2/a";
    const where = shown ? "marked" : "past the slider's end";
    return `Speed limit ${formula} = ${Number(limit.toFixed(3))}, ${where}`;
  }

  function build(box) {
    const id = (name) => `bowl-${name}`;
    const offered = (box.dataset.optimizers || "sgd adam").split(/\s+/).filter((o) => o === "sgd" || o === "adam");
    box.textContent = "";
    const svg = el("svg", { viewBox: `${X[0]} ${-Y[1]} ${X[1] - X[0]} ${Y[1] - Y[0]}`, class: "explorable-plot",
      role: "img", "aria-label": "Contour lines of the bowl with the path of the walk" }, box, SVGNS);
    for (const c of LEVELS) { // x² + 10 y² = 2c: an ellipse
      el("ellipse", { cx: 0, cy: 0, rx: Math.sqrt(2 * c), ry: Math.sqrt(2 * c / 10), class: "contour" }, svg, SVGNS);
    }
    el("path", { d: "M -0.12 0 L 0.12 0 M 0 -0.12 L 0 0.12", class: "centre" }, svg, SVGNS);
    const line = el("polyline", { class: "walk" }, svg, SVGNS);
    const startMark = el("rect", { width: 0.16, height: 0.16, class: "start" }, svg, SVGNS);
    const controls = el("div", { class: "explorable-controls" }, box);
    if (offered.length > 1) {
      const radios = el("fieldset", {}, controls);
      el("legend", {}, radios).textContent = "Optimizer";
      for (const [value, text] of [["sgd", "SGD"], ["adam", "Adam"]].filter(([v]) => offered.includes(v))) {
        const label = el("label", {}, radios);
        el("input", { type: "radio", name: "bowl-optimizer", value, id: id(value) }, label).checked = value === offered[0];
        label.append(" " + text);
      }
    }
    const inputs = {};
    let mark = null, note = null, lrRange = null;
    for (const [name, text, min, max, step, value, which] of SLIDERS) {
      if (which !== "both" && !offered.includes(which)) continue; // a control for an optimizer the page does not offer
      const row = el("div", { class: "explorable-slider", "data-for": which }, controls);
      el("label", { for: id(name) }, row).textContent = text;
      inputs[name] = el("input", { type: "range", id: id(name), min, max, step, value }, row);
      el("output", { for: id(name), id: id(name) + "-value" }, row);
      if (name === "lr") {
        mark = el("span", { class: "speed-limit", "aria-hidden": "true" }, row);
        note = el("small", { class: "speed-limit-note", id: id("limit") }, row);
        lrRange = [min, max];
      }
    }
    if (offered.includes("sgd")) {
      const nesterovRow = el("div", { class: "explorable-check", "data-for": "sgd" }, controls);
      inputs.nesterov = el("input", { type: "checkbox", id: id("nesterov") }, nesterovRow);
      el("label", { for: id("nesterov") }, nesterovRow).textContent = " Nesterov (needs momentum)";
    }
    const result = el("p", { class: "explorable-result", "aria-live": "polite", id: id("result") }, box);

    function read() {
      const value = (name, otherwise) => (inputs[name] ? Number(inputs[name].value) : otherwise);
      const checked = box.querySelector("input[name=bowl-optimizer]:checked");
      const optimizer = checked ? checked.value : offered[0];
      const momentum = value("momentum", 0);
      if (inputs.nesterov) inputs.nesterov.disabled = momentum === 0;
      return { optimizer, lr: value("lr"), momentum, nesterov: Boolean(inputs.nesterov && inputs.nesterov.checked) && momentum !== 0,
        beta1: value("beta1", 0.9), beta2: value("beta2", 0.999), start: [value("x0"), value("y0")], steps: Math.round(value("steps")) };
    }

    function drawLimit(s) {
      const limit = speedLimit(s);
      const shown = limit !== null && limit <= lrRange[1];
      mark.hidden = !shown;
      if (shown) mark.style.setProperty("--at", (limit - lrRange[0]) / (lrRange[1] - lrRange[0]));
      note.textContent = limitNote(s, limit, shown);
    }

    function draw() {
      const s = read();
      for (const [name, input] of Object.entries(inputs)) {
        if (input.type === "range") box.querySelector(`#${id(name)}-value`).textContent = input.value;
      }
      for (const row of controls.querySelectorAll("[data-for]")) {
        row.hidden = row.dataset.for !== "both" && row.dataset.for !== s.optimizer;
      }
      drawLimit(s);
      const out = walk(s, s.start, s.steps);
      // Draw up to the first point outside the frame; the SVG clips the segment that leaves it.
      const shown = [];
      for (const [x, y] of out.path) {
        shown.push(`${x},${-y}`);
        if (x < X[0] || x > X[1] || y < Y[0] || y > Y[1]) break;
      }
      line.setAttribute("points", shown.join(" "));
      startMark.setAttribute("x", s.start[0] - 0.08);
      startMark.setAttribute("y", -s.start[1] - 0.08);
      const last = out.values[out.values.length - 1];
      const left = shown.length < out.path.length || out.diverged;
      result.textContent = out.diverged
        ? `Diverged: f passed ${LIMIT.toExponential(0)} after ${out.path.length - 1} steps; the walk stops there.`
        : `f after ${s.steps} steps = ${last.toPrecision(4)}` + (left ? " (the path left the picture)" : "");
      result.classList.toggle("diverged", out.diverged || left);
    }

    svg.addEventListener("click", (event) => { // a click sets the start point
      const m = svg.getScreenCTM().inverse();
      const pt = new DOMPoint(event.clientX, event.clientY).matrixTransform(m);
      const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, Math.round(v * 10) / 10));
      inputs.x0.value = clamp(pt.x, -4.8, 4.8);
      inputs.y0.value = clamp(-pt.y, -2.2, 2.2);
      draw();
    });
    box.addEventListener("input", draw);
    box.hidden = false;
    draw();
  }

  // The style sheet sits beside this script; it is only needed once the script runs.
  const css = new URL("explorables.css", document.currentScript.src).href;
  if (!document.querySelector(`link[href="${css}"]`)) el("link", { rel: "stylesheet", href: css }, document.head);
  // Material's instant navigation re-runs this script each time the page is shown.
  for (const box of document.querySelectorAll("[data-explorable=bowl]")) build(box);
})();
