// Renders TeX to HTML for the build-time KaTeX hook (src/sitekit/katex.py).
// Protocol: one JSON object per line on stdin, {"tex": "...", "display": bool};
// one JSON object per line on stdout, {"html": "..."} or {"error": "..."}.
"use strict";
const katex = require("katex");
const readline = require("readline");

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let reply;
  try {
    const { tex, display } = JSON.parse(line);
    const html = katex.renderToString(tex, {
      displayMode: display,
      throwOnError: true,
      strict: "error",
      output: "htmlAndMathml",
    });
    reply = { html };
  } catch (err) {
    reply = { error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
