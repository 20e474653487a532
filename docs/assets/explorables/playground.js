// The playground explorable (Training chapter): a small network learns the chapter's two spirals
// while the decision regions and the loss curve redraw.
//
// The network is 2 → width → width → 2 with Tanh or ReLU, trained on all 200 points at every
// step (full batch) with CrossEntropyLoss and SGD (momentum 0.9). The pure part below follows
// dismantle.Linear, Tanh, ReLU, CrossEntropyLoss and SGD line for line, in float64 like NumPy;
// playground.json (scripts/explorables_data.py) holds the spirals and the exact initial weights
// dismantle draws, so the browser starts where Python starts. tests/test_explorables.py trains
// both for 200 steps and compares every loss and weight to 1e-12.
(function () {
  "use strict";
  const script = typeof document !== "undefined" ? document.currentScript : null;

  // ------------------------------------------------------------------ the math (tested)

  const MOMENTUM = 0.9;
  const FLOOR = 0.9 * Math.log(2.2250738585072014e-308); // F._exp_nonpositive: e^x below this is 0

  // A model is [W1, b1, W2, b2, W3, b3] (model.parameters()'s order), W as rows (out, in).
  function copyParams(init) {
    return init.map((p) => (Array.isArray(p[0]) ? p.map((row) => row.slice()) : p.slice()));
  }

  function linear(x, W, b) { // Linear.forward: z = x @ W.T, then z += b
    return x.map((xn) => W.map((row, o) => {
      let z = 0;
      for (let i = 0; i < row.length; i++) z += xn[i] * row[i];
      return z + b[o];
    }));
  }

  const ACT = {
    tanh: { forward: (z) => Math.tanh(z), backward: (g, a) => g * (1 - a * a) }, // Tanh: G ⊙ (1 - a²)
    relu: { forward: (z) => Math.max(z, 0), backward: (g, a) => g * (a > 0 ? 1 : 0) }, // ReLU: G ⊙ [z > 0]
  };

  // Forward through every layer; keeps each layer's input for backward.
  function forward(params, act, x) {
    const inputs = [x];
    let h = x;
    for (let l = 0; l < 3; l++) {
      h = linear(h, params[2 * l], params[2 * l + 1]);
      if (l < 2) h = h.map((row) => row.map(ACT[act].forward));
      inputs.push(h);
    }
    return inputs; // [x, a1, a2, logits]
  }

  // CrossEntropyLoss (mean): the loss and dL/dlogits = (softmax - onehot) * (1/N).
  function crossEntropy(logits, y) {
    const n = logits.length;
    let total = 0;
    const grad = logits.map((z, k) => {
      const top = Math.max(...z);
      const shifted = z.map((v) => v - top);
      const logSum = Math.log(shifted.reduce((s, v) => s + (v <= FLOOR ? 0 : Math.exp(v)), 0));
      const logp = shifted.map((v) => v - logSum);
      total += logp[y[k]];
      const p = logp.map((v) => (v <= FLOOR ? 0 : Math.exp(v)));
      p[y[k]] -= 1;
      return p;
    });
    const scale = 1.0 / n;
    return { loss: -(total / n), grad: grad.map((row) => row.map((v) => v * scale)) };
  }

  // Backward through the layers: the gradient of every parameter, in params' order.
  function backward(params, act, inputs, g) {
    const grads = new Array(6);
    for (let l = 2; l >= 0; l--) {
      const x = inputs[l], W = params[2 * l];
      grads[2 * l] = W.map((row, o) => row.map((_, i) => { // weight.grad += G.T @ x
        let s = 0;
        for (let k = 0; k < x.length; k++) s += g[k][o] * x[k][i];
        return s;
      }));
      grads[2 * l + 1] = W.map((_, o) => g.reduce((s, gk) => s + gk[o], 0)); // bias.grad += G.sum(0)
      if (l === 0) break; // the data needs no gradient
      const gx = g.map((gk) => W[0].map((_, i) => { // G @ W
        let s = 0;
        for (let o = 0; o < W.length; o++) s += gk[o] * W[o][i];
        return s;
      }));
      g = gx.map((row, k) => row.map((v, i) => ACT[act].backward(v, x[k][i])));
    }
    return grads;
  }

  // SGD with momentum μ and dampening 0: b = g (first step) or μ b + g; θ -= lr b.
  function sgd(params, grads, state, lr) {
    const first = state.buf === null;
    if (first) state.buf = copyParams(grads);
    params.forEach((p, j) => {
      const rows = Array.isArray(p[0]) ? p : [p];
      const bufRows = Array.isArray(p[0]) ? state.buf[j] : [state.buf[j]];
      const gRows = Array.isArray(p[0]) ? grads[j] : [grads[j]];
      rows.forEach((row, r) => {
        for (let i = 0; i < row.length; i++) {
          if (!first) {
            bufRows[r][i] *= MOMENTUM;
            bufRows[r][i] += gRows[r][i];
          }
          row[i] -= lr * bufRows[r][i];
        }
      });
    });
  }

  // One training step on the full batch; returns the loss before the step (as fit records it).
  function step(net, data, lr) {
    const inputs = forward(net.params, net.act, data.x);
    const { loss, grad } = crossEntropy(inputs[3], data.y);
    sgd(net.params, backward(net.params, net.act, inputs, grad), net.state, lr);
    return loss;
  }

  function createNet(init, act) {
    return { params: copyParams(init), act, state: { buf: null } };
  }

  function train(data, init, act, lr, steps) {
    const net = createNet(init, act);
    const losses = [];
    for (let k = 0; k < steps; k++) losses.push(step(net, data, lr));
    return { losses, params: net.params };
  }

  const api = { createNet, forward, crossEntropy, backward, sgd, step, train, MOMENTUM };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api; // Node: the tests
    return;
  }

  // ------------------------------------------------------------------ the page
  // The learning rate stops at 0.15, where every run still agrees with dismantle to 1e-12.

  const R = 1.1, GRID = 60, MAX_STEPS = 3000, PER_FRAME = 10;
  const COLOURS = [[33, 102, 172], [214, 96, 77]]; // class 0 blue, class 1 red

  function el(name, attrs, parent) {
    const node = document.createElement(name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function build(box, data) {
    box.textContent = "";
    const canvas = el("canvas", { width: 360, height: 360, class: "explorable-plot", role: "img",
      "aria-label": "The two spirals over the regions the network assigns to each class" }, box);
    const side = el("div", { class: "explorable-controls" }, box);
    const curve = el("canvas", { width: 360, height: 140, class: "explorable-curve", role: "img",
      "aria-label": "The training loss at every step so far" }, side);
    const groups = {};
    for (const [name, legend, options] of [["width", "Hidden width", ["4", "8", "16"]],
      ["act", "Activation", ["tanh", "relu"]]]) {
      const set = el("fieldset", {}, side);
      el("legend", {}, set).textContent = legend;
      for (const value of options) {
        const label = el("label", {}, set);
        el("input", { type: "radio", name: `playground-${name}`, value }, label).checked = value === options[1];
        label.append(" " + (name === "act" ? { tanh: "Tanh", relu: "ReLU" }[value] : value));
      }
      groups[name] = set;
    }
    const row = el("div", { class: "explorable-slider" }, side);
    el("label", { for: "playground-lr" }, row).textContent = "learning rate η (momentum 0.9)";
    const lr = el("input", { type: "range", id: "playground-lr", min: 0.01, max: 0.15, step: 0.01, value: 0.1 }, row);
    const lrValue = el("output", { for: "playground-lr" }, row);
    const buttons = el("div", { class: "explorable-buttons" }, side);
    const play = el("button", { type: "button", "aria-pressed": "false" }, buttons);
    const once = el("button", { type: "button" }, buttons);
    const reset = el("button", { type: "button" }, buttons);
    once.textContent = "Step";
    reset.textContent = "Reset";
    const status = el("p", { class: "explorable-result", "aria-live": "polite" }, box);

    let net, losses, running = false, frame = 0;
    const choice = (name) => groups[name].querySelector("input:checked").value;

    function start() { // the network dismantle builds for this width and activation
      net = createNet(data.init[choice("width")], choice("act"));
      losses = [];
    }

    function drawRegions() {
      const ctx = canvas.getContext("2d");
      const points = [];
      for (let r = 0; r < GRID; r++) for (let c = 0; c < GRID; c++) {
        points.push([-R + (2 * R * (c + 0.5)) / GRID, R - (2 * R * (r + 0.5)) / GRID]);
      }
      const logits = forward(net.params, net.act, points)[3];
      const cell = canvas.width / GRID;
      logits.forEach((z, k) => {
        const p1 = 1 / (1 + Math.exp(z[0] - z[1])); // softmax's class-1 share
        const mix = (ch) => Math.round(255 + (COLOURS[p1 > 0.5 ? 1 : 0][ch] - 255) * Math.abs(p1 - 0.5) * 0.9);
        ctx.fillStyle = `rgb(${mix(0)},${mix(1)},${mix(2)})`;
        ctx.fillRect((k % GRID) * cell, Math.floor(k / GRID) * cell, cell + 1, cell + 1);
      });
      data.x.forEach(([x, y], k) => {
        ctx.beginPath();
        ctx.arc(((x + R) / (2 * R)) * canvas.width, ((R - y) / (2 * R)) * canvas.height, 3.2, 0, 2 * Math.PI);
        ctx.fillStyle = `rgb(${COLOURS[data.y[k]].join(",")})`;
        ctx.fill();
        ctx.strokeStyle = "#fff";
        ctx.stroke();
      });
    }

    function drawCurve() {
      const ctx = curve.getContext("2d");
      const w = curve.width, h = curve.height, top = Math.max(0.8, ...losses.slice(0, 1));
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, w, h);
      ctx.strokeStyle = "#9aa0b4";
      ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
      ctx.beginPath();
      const span = Math.max(200, losses.length);
      losses.forEach((v, k) => {
        const px = (k / span) * w, py = h - (Math.min(v, top) / top) * (h - 8) - 4;
        if (k === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      ctx.strokeStyle = "#d84315";
      ctx.lineWidth = 2;
      ctx.stroke();
      ctx.fillStyle = "#333";
      ctx.font = "12px sans-serif";
      ctx.fillText(`loss (0 to ${top.toFixed(2)}) over ${span} steps`, 6, 14);
    }

    function show() {
      lrValue.textContent = lr.value;
      play.textContent = running ? "Pause" : "Play";
      play.setAttribute("aria-pressed", String(running));
      const last = losses.length ? losses[losses.length - 1] : null;
      const diverged = last !== null && !(last < 1e6);
      status.textContent = diverged ? `Diverged at step ${losses.length}: the loss left every bound. Reset, with a smaller learning rate.`
        : `step ${losses.length}` + (last === null ? ", press Play or Step" : `, loss ${last.toFixed(4)}`)
          + (losses.length >= MAX_STEPS ? " (the end: Reset to start again)" : "");
      status.dataset.loss = last === null ? "" : String(last);
      status.dataset.steps = String(losses.length);
      drawRegions();
      drawCurve();
      return diverged;
    }

    function advance(count) {
      for (let k = 0; k < count && losses.length < MAX_STEPS; k++) {
        losses.push(step(net, data, Number(lr.value)));
        if (!(losses[losses.length - 1] < 1e6)) break;
      }
      const stop = show() || losses.length >= MAX_STEPS;
      if (stop) running = false;
      return !stop;
    }

    function tick() {
      if (running && advance(PER_FRAME) && box.isConnected) frame = requestAnimationFrame(tick);
      else { running = false; show(); }
    }

    play.addEventListener("click", () => {
      running = !running;
      cancelAnimationFrame(frame);
      if (running) frame = requestAnimationFrame(tick);
      show();
    });
    once.addEventListener("click", () => { running = false; cancelAnimationFrame(frame); advance(1); });
    reset.addEventListener("click", () => { running = false; cancelAnimationFrame(frame); start(); show(); });
    side.addEventListener("change", (event) => {
      if (event.target.type === "radio") { running = false; cancelAnimationFrame(frame); start(); }
      show();
    });
    lr.addEventListener("input", () => { lrValue.textContent = lr.value; });
    start();
    box.hidden = false;
    show();
  }

  const css = new URL("explorables.css", script.src).href;
  if (!document.querySelector(`link[href="${css}"]`)) el("link", { rel: "stylesheet", href: css }, document.head);
  const boxes = document.querySelectorAll("[data-explorable=playground]");
  if (boxes.length) {
    // Opened from a folder (file://), a page may not fetch a file: the site's offline copy
    // (src/sitekit/offline.py) has the same data as a script, playground.data.js.
    const data = location.protocol === "file:"
      ? new Promise((resolve, reject) => {
        const tag = el("script", { src: new URL("playground.data.js", script.src).href }, document.head);
        tag.onload = () => resolve(window.explorableData["playground.json"]);
        tag.onerror = reject;
      })
      : fetch(new URL("playground.json", script.src)).then((response) => response.json());
    data.then((data) => boxes.forEach((box) => build(box, data)));
  }
})();
