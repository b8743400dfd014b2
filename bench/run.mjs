#!/usr/bin/env node
// `npm run bench`: every figure is a ratio against a baseline measured in the same run on the same
// input, from the medians of alternating runs, each in a fresh process (bench/case.mjs).
//   BENCH_RUNS=5 (runs per side)   BENCH_ONLY=stream,result (a subset of the rows)
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 5);
const only = process.env.BENCH_ONLY?.split(",");

function measure(name, impl, env = {}) {
  const out = execFileSync(process.execPath, [path.join(here, "case.mjs"), name, impl], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split("\n").pop());
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Alternates the implementations run by run, so drift in the machine hits both alike. The median
 * of `field` is `value`; of each further field, a property of that name. */
function compare(name, impls, env, fields = "ms") {
  const [field, ...more] = [fields].flat();
  const samples = Object.fromEntries(impls.map((i) => [i, []]));
  for (let r = 0; r < runs; r++) for (const i of impls) samples[i].push(measure(name, i, env));
  const of = (i, f) => median(samples[i].map((s) => s[f]));
  return Object.fromEntries(impls.map((i) => [i, { value: of(i, field), events: samples[i][0].events, ...Object.fromEntries(more.map((f) => [f, of(i, f)])) }]));
}

const rows = [];
const row = (label, target, sdk, base, unit, baseLabel) =>
  rows.push({ label, sdk: `${sdk.toFixed(unit === "MiB" ? 0 : 1)} ${unit}`, baseline: `${base.toFixed(unit === "MiB" ? 0 : 1)} ${unit} (${baseLabel})`, ratio: `${(sdk / base).toFixed(2)}×`, target });
const want = (k) => !only || only.includes(k);

if (want("stream")) {
  const flood = { FLOOD_DELTAS: "200000" };
  const all = compare("stream-all", ["sdk", "plain"], flood);
  row("streaming 200k deltas, merging off (every notification, as the plain client)", "≤ 0.35×", all.sdk.value, all.plain.value, "ms", "plain client");
  const merged = compare("stream", ["sdk", "plain"], flood);
  row("streaming 200k deltas, default policy (merging past 8 192 waiting)", "≤ 0.30×", merged.sdk.value, merged.plain.value, "ms", "plain client");
  const floors = compare("floor-read", ["x"], flood);
  const parse = compare("floor-parse", ["x"], flood);
  const iterate = compare("floor-iterate", ["x"], flood);
  row("floor: reading the flood, no parsing", "floor", floors.x.value, all.plain.value, "ms", "plain client");
  row("floor: reading it and JSON.parse in batches", "floor", parse.x.value, all.plain.value, "ms", "plain client");
  row("floor: reading it and a `for await` step per line", "floor", iterate.x.value, all.plain.value, "ms", "plain client");
}
if (want("result")) {
  const r = compare("result", ["sdk", "plain"], { FLOOD_DELTAS: "200000" });
  row("result only, 200k deltas", "≤ 0.20×", r.sdk.value, r.plain.value, "ms", "plain client");
}
if (want("goal")) {
  const r = compare("goal", ["sdk", "plain"], {});
  row("goal, 2 continuations, real app-server", "≤ 1.03×", r.sdk.value, r.plain.value, "ms", "protocol script");
}
if (want("startup")) {
  const r = compare("startup", ["sdk", "plain"], {});
  row("startup (spawn + initialize)", "within 10 ms", r.sdk.value, r.plain.value, "ms", "bare spawn+initialize");
}
if (want("engine")) {
  const r = compare("engine", ["native", "wasm", "js"], {});
  const rate = (x) => x.events / (x.value / 1000);
  // The engine alone, natively (criterion, crates/engine/benches): on events already parsed, and
  // the whole native path per raw line.
  const criterion = execFileSync("cargo", ["bench", "-p", "codex-sdk-engine", "--bench", "goal_engine", "--", "--warm-up-time", "1", "--measurement-time", "3"], {
    cwd: path.join(here, ".."),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  const rates = [...criterion.matchAll(/goal_engine\/(\w+)\s+time:[^\n]*\n\s+thrpt:\s*\[[^\]]*?\s([\d.]+) (\w?)elem\/s\s+[\d.]+ \w?elem\/s\]/g)].map(
    ([, name, value, unit]) => [name, Number(value) * ({ K: 1e3, M: 1e6, G: 1e9 }[unit] ?? 1)],
  );
  for (const [name, nativeRate] of rates) {
    rows.push({
      label: `goal engine, native, criterion (${name === "events" ? "parsed events" : "raw lines, relabel splice included"})`,
      sdk: `${(nativeRate / 1e6).toFixed(2)} M events/s`,
      baseline: `${(rate(r.js) / 1e6).toFixed(2)} M events/s (plain JS, incl. JSON.parse)`,
      ratio: `${(rate(r.js) / nativeRate).toFixed(2)}×`,
      target: name === "events" ? "≥ 5 M events/s" : "time vs plain JS",
    });
  }
  for (const impl of ["native", "wasm"]) {
    rows.push({
      label: `goal engine, ${impl} (from JS, per JSON line, 2 000-turn transcript)`,
      sdk: `${(rate(r[impl]) / 1e6).toFixed(2)} M events/s`,
      baseline: `${(rate(r.js) / 1e6).toFixed(2)} M events/s (plain JS)`,
      ratio: `${(r[impl].value / r.js.value).toFixed(2)}×`,
      target: "time vs plain JS",
    });
  }
  const d = compare("engine-deltas", ["wasm", "js", "parse"], {}, ["ms", "warmMs"]);
  row("wasm GoalAggregator, delta-heavy goal (40 turns × 1 000 deltas, JSON lines)", "≤ 0.40×", d.wasm.value, d.js.value, "ms", "plain JS engine");
  row("floor: JSON.parse of the same lines, nothing else", "floor", d.parse.value, d.js.value, "ms", "plain JS engine");
  row("the same, fifth pass in the same process (JIT warm)", "profile", d.wasm.warmMs, d.js.warmMs, "ms", "plain JS engine, warm");
  row("floor, fifth pass: JSON.parse of the same lines", "floor", d.parse.warmMs, d.js.warmMs, "ms", "plain JS engine, warm");
}
if (want("memory")) {
  const slow = compare("memory-slow", ["sdk", "plain"], { FLOOD_DELTAS: "1000000" }, "rssMiB");
  row("peak RSS, 1M deltas, slow consumer", "bounded", slow.sdk.value, slow.plain.value, "MiB", "plain client, same consumer");
  const res = compare("memory-result", ["sdk", "plain"], { FLOOD_DELTAS: "1000000" }, "rssMiB");
  row("peak RSS, 1M deltas, result only", "flat in deltas", res.sdk.value, res.plain.value, "MiB", "plain client");
}

const cols = ["label", "sdk", "baseline", "ratio", "target"];
const head = ["measurement", "SDK", "baseline", "SDK ÷ baseline", "target"];
console.log(`${os.cpus()[0].model}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${runs} alternating runs per side, medians\n`);
console.log(`| ${head.join(" | ")} |\n| ${cols.map(() => "---").join(" | ")} |`);
for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(" | ")} |`);
