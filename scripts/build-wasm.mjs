#!/usr/bin/env node
// Builds `codex-app-server-sdk/wasm`: the engine crate compiled to wasm32, bound with the exact
// wasm-bindgen CLI version that Cargo.lock pins (installed when missing), for Node (CommonJS, plus
// an ESM wrapper) and for browsers (ESM that loads its .wasm by URL).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
const output = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return "";
  }
};

const lock = fs.readFileSync(path.join(root, "Cargo.lock"), "utf8");
const pinned = lock.match(/name = "wasm-bindgen"\nversion = "([^"]+)"/)?.[1];
if (!pinned) throw new Error("Cargo.lock pins no wasm-bindgen version");

if (!output("rustup", ["target", "list", "--installed"]).split("\n").includes("wasm32-unknown-unknown")) {
  run("rustup", ["target", "add", "wasm32-unknown-unknown"]);
}
if (!output("wasm-bindgen", ["--version"]).includes(pinned)) {
  console.log(`installing wasm-bindgen-cli ${pinned} (it must match the wasm-bindgen crate exactly)`);
  run("cargo", ["install", "wasm-bindgen-cli", "--version", pinned]);
}

run("cargo", ["build", "-p", "codex-sdk-wasm", "--target", "wasm32-unknown-unknown", "--profile", "wasm"]);
const wasm = path.join(root, "target/wasm32-unknown-unknown/wasm/codex_sdk_wasm.wasm");
for (const [target, dir] of [["nodejs", "wasm/node"], ["web", "wasm/web"]]) {
  fs.rmSync(path.join(root, dir), { recursive: true, force: true });
  run("wasm-bindgen", [wasm, "--target", target, "--out-dir", dir, "--out-name", "codex_sdk_wasm", "--no-typescript"]);
}
// The public API is a thin checked layer over the raw exports (src/wasm/api.ts): CommonJS from
// dist/ for Node, and an ES module compiled next to the browser build.
const names = "GoalAggregator, TurnAggregator, decodeMessage, encodeRequest, activeTurnIdFromError";
fs.writeFileSync(
  path.join(root, "wasm/node/index.js"),
  `// Node entry (CommonJS): the checked API over the raw wasm module.
module.exports = require("../../dist/wasm/api.js").wrap(require("./codex_sdk_wasm.js"));
`,
);
fs.writeFileSync(
  path.join(root, "wasm/node/index.mjs"),
  `// ESM entry for Node: the same instance as the CommonJS entry.
import { createRequire } from "node:module";

const wasm = createRequire(import.meta.url)("./index.js");
export const { ${names} } = wasm;
export default wasm;
`,
);
run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.web.json"]);
fs.writeFileSync(
  path.join(root, "wasm/web/index.js"),
  `// Browser entry: fetches and instantiates the .wasm next to this file, then exports the checked API.
import init, * as raw from "./codex_sdk_wasm.js";
import { wrap } from "./api.js";

await init({ module_or_path: new URL("./codex_sdk_wasm_bg.wasm", import.meta.url) });
export const { ${names} } = wrap(raw);
`,
);
// ES modules under a CommonJS package: say so, for Node and for tools that follow Node's rules.
fs.writeFileSync(path.join(root, "wasm/web/package.json"), '{ "type": "module" }\n');
const size = fs.statSync(path.join(root, "wasm/web/codex_sdk_wasm_bg.wasm")).size;
console.log(`built wasm/node and wasm/web (${(size / 1024).toFixed(0)} KiB of wasm)`);
