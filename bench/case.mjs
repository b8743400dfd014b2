#!/usr/bin/env node
// One benchmark measurement in a fresh process: `node bench/case.mjs <case> <impl>` prints
// {"ms": wall time, "rssMiB": peak resident memory}. bench/run.mjs alternates and summarises them.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Codex, resolveCodexPath } from "../index.mjs";
import { makeCodexHome } from "../tests/support/codex-home.mjs";
import { goalStatus, reply, startMockModel } from "../tests/support/mock-model.mjs";
import { JsGoalEngine } from "./js-goal-engine.mjs";
import { PlainClient } from "./plain-client.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const flood = path.join(here, "flood-server.mjs");
const [name, impl] = process.argv.slice(2);
const now = () => performance.now();
const rssMiB = () => process.resourceUsage().maxRSS / 1024;
const floodDeltas = Number(process.env.FLOOD_DELTAS);

async function sdkFlood({ iterate, slow, merge = true }) {
  const codex = await Codex.start({ codexPath: flood, ...(merge ? {} : { mergeDeltasAfter: Infinity }) });
  const thread = await codex.startThread();
  const t0 = now();
  const turn = await thread.turn("go");
  // A consumer behind the reader gets deltas merged (see stream.rs): count text, not notifications.
  let chars = 0;
  let notifications = 0;
  if (iterate) {
    let delivered = 0;
    for await (const n of turn) {
      if (n.method !== "item/agentMessage/delta") continue;
      chars += n.params.delta.length;
      delivered++;
      if (slow && ++notifications % 1000 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    if (!merge && delivered !== floodDeltas) throw new Error(`merging off, yet ${delivered} deltas`);
  }
  const result = await turn.result();
  const ms = now() - t0;
  if (result.status !== "completed") throw new Error(`bad run: ${result.status}`);
  if (iterate && !merge && notifications !== 0) throw new Error("counted as slow");
  if (iterate) {
    // Only when iterating: building the expected length allocates, which would skew result-only memory.
    let expected = 0;
    for (let i = 0; i < floodDeltas; i++) expected += `token ${i} `.length;
    if (chars !== expected) throw new Error(`bad run: ${chars} of ${expected} characters`);
  }
  await codex.close();
  return ms;
}

async function plainFlood({ slow }) {
  const client = await PlainClient.start(flood);
  const { thread } = await client.request("thread/start", {});
  const t0 = now();
  let turnId = null;
  let deltas = 0;
  const queue = [];
  const done = new Promise((resolve) => {
    client.on((msg) => {
      const p = msg.params;
      if (msg.method === "turn/started" && p.threadId === thread.id) turnId = p.turn.id;
      if ((p.turnId ?? p.turn?.id) !== turnId) return;
      if (slow) queue.push(msg); // a slow consumer: what arrives faster than it reads is held
      if (msg.method === "item/agentMessage/delta") deltas++;
      if (msg.method === "turn/completed") resolve();
    });
  });
  await client.request("turn/start", { threadId: thread.id, input: [{ type: "text", text: "go" }] });
  await done;
  for (let i = 0; slow && i < queue.length; i++) if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 1));
  const ms = now() - t0;
  if (deltas !== floodDeltas) throw new Error(`bad run: ${deltas}`);
  await client.close();
  return ms;
}

/**
 * The floors under any client of the flood: read it from the pipe and find its lines, without
 * parsing (`parse` false), or parsing them with V8's JSON.parse in batches of 512 as the SDK's JS
 * side does (`parse` true). Timed like the clients: from sending turn/start to the last line.
 */
async function floor({ parse }) {
  const child = spawn(flood, [], { stdio: ["pipe", "pipe", "inherit"] });
  const want = 3 + floodDeltas + 3; // 3 answers; turn/started, the deltas, item/completed, turn/completed
  const write = (msg) => child.stdin.write(JSON.stringify(msg) + "\n");
  write({ id: 1, method: "initialize", params: {} });
  write({ id: 2, method: "thread/start", params: {} });
  let seen = 0;
  let t0 = 0;
  let partial = "";
  let batch = [];
  let parsed = 0;
  const flush = () => {
    if (batch.length) parsed += JSON.parse(`[${batch.join(",")}]`).length;
    batch = [];
  };
  await new Promise((resolve) => {
    child.stdout.on("data", (chunk) => {
      if (!parse) {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) seen++;
      } else {
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop();
        for (const l of lines) {
          seen++;
          batch.push(l);
          if (batch.length === 512) flush();
        }
      }
      if (seen === 2 && t0 === 0) {
        t0 = now();
        write({ id: 3, method: "turn/start", params: { threadId: "bench-thread", input: [] } });
      }
      if (seen >= want) resolve();
    });
  });
  flush();
  const ms = now() - t0;
  if (parse && parsed !== want) throw new Error(`parsed ${parsed} of ${want}`);
  child.stdin.end();
  return ms;
}

/**
 * A floor for a stream consumed with `for await`: reading the flood (lines counted, not parsed) while
 * a `for await` loop takes one value per line from an iterator shaped like the SDK's (each `next()`
 * an already-resolved promise while values last). What it costs above floor-read is what the
 * AsyncIterator protocol itself costs per notification.
 */
async function floorIterate() {
  const child = spawn(flood, [], { stdio: ["pipe", "pipe", "inherit"] });
  const want = 3 + floodDeltas + 3;
  const write = (msg) => child.stdin.write(JSON.stringify(msg) + "\n");
  write({ id: 1, method: "initialize", params: {} });
  write({ id: 2, method: "thread/start", params: {} });
  const value = { method: "item/agentMessage/delta", params: {} };
  let seen = 0;
  let taken = 0;
  let t0 = 0;
  let wake = null;
  child.stdout.on("data", (chunk) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) seen++;
    if (seen >= 2 && t0 === 0) {
      t0 = now();
      write({ id: 3, method: "turn/start", params: { threadId: "bench-thread", input: [] } });
    }
    wake?.();
  });
  const iterator = {
    next() {
      if (taken >= want) return Promise.resolve({ done: true, value: undefined });
      if (taken < seen) return Promise.resolve({ done: false, value: (taken++, value) });
      return new Promise((resolve) => {
        wake = () => {
          wake = null;
          resolve(this.next());
        };
      });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  let n = 0;
  for await (const v of iterator) if (v === value) n++;
  const ms = now() - t0;
  if (n !== want) throw new Error(`iterated ${n} of ${want}`);
  child.stdin.end();
  return ms;
}

async function withModel(script, fn) {
  const model = await startMockModel(script);
  const home = makeCodexHome(model.url);
  try {
    return await fn(home.env);
  } finally {
    await model.close();
    home.cleanup();
  }
}

const goalScript = () => [reply("Step one."), reply("Step two."), goalStatus("complete"), reply("Done.")];

async function sdkGoal() {
  return withModel(goalScript(), async (env) => {
    const codex = await Codex.start({ env });
    const thread = await codex.startThread();
    const t0 = now();
    const r = await thread.runGoal("bench goal");
    const ms = now() - t0;
    if (r.turnIds.length !== 3) throw new Error(`expected 3 turns, got ${r.turnIds.length}`);
    await codex.close();
    return ms;
  });
}

async function plainGoal() {
  return withModel(goalScript(), async (env) => {
    const client = await PlainClient.start(resolveCodexPath(), ["app-server"], env);
    const { thread } = await client.request("thread/start", {});
    const t0 = now();
    let status = "active";
    let turns = 0;
    const done = new Promise((resolve) => {
      client.on((msg) => {
        const p = msg.params;
        if (p?.threadId !== thread.id) return;
        if (msg.method === "thread/goal/updated") status = p.goal.status;
        if (msg.method === "turn/started") turns++;
        if (msg.method === "turn/completed" && status !== "active") resolve();
      });
    });
    await client.request("thread/goal/clear", { threadId: thread.id });
    await client.request("thread/goal/set", { threadId: thread.id, objective: "bench goal", status: "active" });
    await done;
    const ms = now() - t0;
    if (turns !== 3) throw new Error(`expected 3 turns, got ${turns}`);
    await client.close();
    return ms;
  });
}

async function startup() {
  const home = makeCodexHome("http://127.0.0.1:9/v1");
  try {
    const t0 = now();
    if (impl === "sdk") {
      const codex = await Codex.start({ env: home.env });
      const ms = now() - t0;
      await codex.close();
      return ms;
    }
    const client = await PlainClient.start(resolveCodexPath(), ["app-server"], home.env);
    const ms = now() - t0;
    await client.close();
    return ms;
  } finally {
    home.cleanup();
  }
}

/** A long goal transcript: the recorded complete-after-continuation run, its first turn repeated,
 * each copy with `deltas` extra agent-message deltas. */
function longTranscript(turns, deltas = 0) {
  const file = path.join(here, "../crates/engine/tests/fixtures/goal-complete-after-continuation.jsonl");
  const lines = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const starts = lines.map((m, i) => (m.method === "turn/started" ? i : -1)).filter((i) => i >= 0);
  const [head, first, last] = [lines.slice(0, starts[0]), lines.slice(starts[0], starts[1]), lines.slice(starts[1])];
  const out = [...head];
  for (let t = 0; t < turns; t++) {
    const id = `turn-${t}`;
    for (const m of first) {
      out.push(JSON.parse(JSON.stringify(m).replaceAll(first[0].params.turn.id, id)));
      if (m.method === "item/started" && deltas > 0) {
        for (let d = 0; d < deltas; d++) {
          out.push({ method: "item/agentMessage/delta", params: { threadId: m.params.threadId, turnId: id, itemId: m.params.item.id, delta: `word ${d} ` } });
        }
      }
    }
  }
  return [...out, ...last].map((m) => JSON.stringify(m));
}

async function engine() {
  const lines = longTranscript(2_000);
  const threadId = JSON.parse(lines.find((l) => l.includes('"threadId"'))).params.threadId;
  const require = createRequire(import.meta.url);
  let agg;
  let push;
  if (impl === "native") {
    agg = require("../dist/native.js").binding.BindingAggregator.goal(threadId);
    push = (l) => agg.push(l);
  } else if (impl === "wasm") {
    agg = new (require("codex-app-server-sdk/wasm").GoalAggregator)(threadId);
    push = (l) => agg.push(l);
  } else {
    agg = new JsGoalEngine(threadId);
    push = (l) => agg.push(JSON.parse(l));
  }
  const t0 = now();
  for (const l of lines) push(l);
  const ms = now() - t0;
  if (!agg.done) throw new Error("the long transcript did not finish");
  return { ms, events: lines.length };
}

/** A delta-heavy goal as JSON lines: 40 physical turns of 1 000 deltas each (built from a recorded
 * goal), fed to the wasm GoalAggregator or the plain JS engine, every logical event's text read;
 * or only parsed (`parse`), the floor under any implementation that hands out objects. */
async function deltaHeavy() {
  const lines = longTranscript(40, 1_000);
  const threadId = JSON.parse(lines.find((l) => l.includes('"threadId"'))).params.threadId;
  const require = createRequire(import.meta.url);
  // "parse": the floor under both, JSON.parse of each line and nothing else.
  const { GoalAggregator } = impl === "wasm" ? require("codex-app-server-sdk/wasm") : {};
  // Five times, each with a fresh aggregator: the first pass is the row (JIT cold, as an app's
  // first goal is); the fifth says what the same code costs once V8 has optimised it.
  const pass = () => {
    const agg = impl === "wasm" ? new GoalAggregator(threadId) : impl === "js" ? new JsGoalEngine(threadId) : { done: true };
    const push = impl === "wasm" ? (l) => agg.push(l) : impl === "js" ? (l) => agg.push(JSON.parse(l)) : (l) => [JSON.parse(l)];
    let chars = 0;
    const t0 = now();
    for (const l of lines) for (const n of push(l)) if (n.method === "item/agentMessage/delta") chars += n.params.delta.length;
    const ms = now() - t0;
    if (!agg.done || chars === 0) throw new Error("the delta-heavy goal did not finish");
    return ms;
  };
  const ms = pass();
  for (let i = 0; i < 3; i++) pass();
  return { ms, warmMs: pass(), events: lines.length };
}

const cases = {
  "stream-all": () => (impl === "sdk" ? sdkFlood({ iterate: true, merge: false }) : plainFlood({})),
  "floor-read": () => floor({ parse: false }),
  "floor-parse": () => floor({ parse: true }),
  "floor-iterate": floorIterate,
  "engine-deltas": deltaHeavy,
  stream: () => (impl === "sdk" ? sdkFlood({ iterate: true }) : plainFlood({})),
  result: () => (impl === "sdk" ? sdkFlood({ iterate: false }) : plainFlood({})),
  "memory-slow": () => (impl === "sdk" ? sdkFlood({ iterate: true, slow: true }) : plainFlood({ slow: true })),
  "memory-result": () => (impl === "sdk" ? sdkFlood({ iterate: false }) : plainFlood({})),
  goal: () => (impl === "sdk" ? sdkGoal() : plainGoal()),
  startup,
  engine,
};
const out = await cases[name]();
const { ms, events, warmMs } = typeof out === "number" ? { ms: out } : out;
process.stdout.write(JSON.stringify({ ms, events, warmMs, rssMiB: rssMiB() }) + "\n");
