// The wasm build: the same engine as the native addon, so on every transcript recorded from the
// real app-server both must give identical logical events and results. Plus the wasm API itself.
import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as wasm from "codex-app-server-sdk/wasm";
import { withCodex } from "./support/harness.mjs";
import { goalStatus, reply } from "./support/mock-model.mjs";

const require = createRequire(import.meta.url);
const { BindingAggregator } = require("../dist/native.js").binding;
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "../crates/engine/tests/fixtures");
const names = fs.readdirSync(fixtures).filter((f) => f.endsWith(".jsonl")).map((f) => f.replace(/\.jsonl$/, ""));

function load(name) {
  return fs.readFileSync(path.join(fixtures, `${name}.jsonl`), "utf8").trim().split("\n");
}

function idsOf(lines) {
  const msgs = lines.map((l) => JSON.parse(l));
  const threadId = msgs.find((m) => m.params?.threadId)?.params.threadId;
  const turnId = msgs.find((m) => m.method === "turn/started")?.params.turn.id;
  return { threadId, turnId };
}

function runNative(name, lines) {
  const { threadId, turnId } = idsOf(lines);
  const agg = name.startsWith("goal") ? BindingAggregator.goal(threadId) : BindingAggregator.turn(threadId, turnId);
  const events = lines.flatMap((l) => agg.push(l).map((e) => JSON.parse(e)));
  return { events, result: JSON.parse(agg.result()), done: agg.done };
}

function runWasm(name, lines, asObjects) {
  const { threadId, turnId } = idsOf(lines);
  const agg = name.startsWith("goal") ? new wasm.GoalAggregator(threadId) : new wasm.TurnAggregator(threadId, turnId);
  try {
    const events = lines.flatMap((l) => agg.push(asObjects ? JSON.parse(l) : l));
    return { events, result: agg.result(), done: agg.done };
  } finally {
    agg[Symbol.dispose](); // what `using` calls
  }
}

test("there are recorded transcripts for every goal outcome and a plain turn", () => {
  assert.ok(names.includes("plain-turn"));
  assert.ok(names.filter((n) => n.startsWith("goal-")).length >= 7, names.join(", "));
});

for (const name of names) {
  test(`native and wasm agree on ${name}`, () => {
    const lines = load(name);
    const native = runNative(name, lines);
    assert.equal(native.done, true);
    for (const asObjects of [false, true]) {
      const w = runWasm(name, lines, asObjects);
      assert.deepEqual(w.events, native.events, "identical logical events");
      assert.deepEqual(w.result, native.result, "identical results");
    }
    assert.ok(native.events.length > 0);
  });
}

test("deltas of other threads and turns interleaved with the run's: native and wasm agree, delta by delta", () => {
  // The wasm layer reuses the engine's answer while method, thread and turn repeat; every delta of
  // the run is followed by near misses that must each be decided afresh.
  const lines = load("goal-complete-after-continuation");
  const mixed = lines.flatMap((l) => {
    const m = JSON.parse(l);
    if (m.method !== "item/agentMessage/delta") return [l];
    const p = m.params;
    const variant = (params) => JSON.stringify({ method: m.method, params: { ...params, delta: "x" } });
    return [
      l,
      variant({ ...p, threadId: "another-thread" }),
      variant({ ...p, turnId: "another-turn" }),
      variant({ itemId: p.itemId, thread: { id: p.threadId }, turnId: p.turnId }),
      variant({ threadId: p.threadId, itemId: p.itemId }),
      JSON.stringify({ ...m, method: "item/reasoning/textDelta" }),
      l,
    ];
  });
  assert.ok(mixed.length > lines.length * 1.5, "the transcript has deltas to mix");
  const name = "goal-complete-after-continuation";
  const native = runNative(name, mixed);
  for (const asObjects of [false, true]) {
    const w = runWasm(name, mixed, asObjects);
    assert.deepEqual(w.events, native.events, "identical logical events");
    assert.deepEqual(w.result, native.result, "identical results");
  }
  const passed = native.events.filter((e) => e.params?.delta === "x");
  assert.ok(passed.length > 0, "the run's own deltas in another form (thread.id, no turnId) are decided, not dropped by reuse");
});

test("wasm values are plain JSON objects, never Maps", () => {
  const lines = load("goal-complete-after-continuation");
  const { result, events } = runWasm("goal-complete-after-continuation", lines, false);
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.equal(Object.getPrototypeOf(result.goal), Object.prototype);
  assert.equal(Object.getPrototypeOf(events[0].params), Object.prototype);
  assert.ok(Array.isArray(result.items));
  assert.equal(JSON.stringify(JSON.parse(JSON.stringify(result))), JSON.stringify(result));
});

test("the wasm aggregator tracks the turn to steer and throws until done", () => {
  const lines = load("goal-complete-after-continuation");
  const { threadId } = idsOf(lines);
  const agg = new wasm.GoalAggregator(threadId);
  assert.throws(() => agg.result(), /not over yet/);
  assert.equal(agg.logicalTurnId, null);
  const started = [];
  for (const l of lines) {
    agg.push(l);
    const m = JSON.parse(l);
    if (m.method === "turn/started") {
      started.push(m.params.turn.id);
      assert.equal(agg.currentTurnId, m.params.turn.id, "the current physical turn follows rollovers");
      assert.equal(agg.logicalTurnId, started[0]);
    }
  }
  assert.equal(agg.done, true);
  assert.equal(agg.currentTurnId, null);
  assert.deepEqual(agg.result().turnIds, started);
  agg.free();
});

test("malformed input throws a clear error instead of yielding garbage", () => {
  const agg = new wasm.GoalAggregator("t");
  assert.throws(() => agg.push("not json"), /not JSON/);
  assert.throws(() => agg.push("[1,2]"), /JSON object/);
  assert.throws(() => agg.push({ method: 42 }), /method/);
  assert.throws(() => agg.push({ params: {} }), /no `method`/);
  assert.deepEqual(agg.push({ id: 1, result: {} }), [], "responses are not part of a turn's stream");
  assert.throws(() => wasm.decodeMessage("{"), /not JSON/);
  assert.throws(() => wasm.encodeRequest({ no: 1 }, "m"), /id must be a string or an integer/);
  agg.free();
});

test("decodeMessage, encodeRequest and activeTurnIdFromError", () => {
  assert.deepEqual(wasm.decodeMessage('{"id":3,"method":"turn/start","params":{"a":1}}'), { kind: "request", id: 3, method: "turn/start", params: { a: 1 } });
  assert.deepEqual(wasm.decodeMessage('{"method":"turn/started","params":{}}'), { kind: "notification", method: "turn/started", params: {} });
  assert.deepEqual(wasm.decodeMessage('{"id":"x","result":null}'), { kind: "response", id: "x", result: null });
  assert.equal(wasm.decodeMessage('{"id":1,"error":{"code":-32001,"message":"Server overloaded; retry later."}}').error.code, -32001);
  const line = wasm.encodeRequest(7, "thread/read", { threadId: "t" });
  assert.deepEqual(JSON.parse(line), { id: 7, method: "thread/read", params: { threadId: "t" } });
  assert.ok(!line.includes("jsonrpc") && !line.includes("\n"));
  assert.deepEqual(JSON.parse(wasm.encodeRequest("a", "initialized")), { id: "a", method: "initialized" });
  assert.equal(wasm.activeTurnIdFromError("expected active turn id `a` but found `b`"), "b");
  assert.equal(wasm.activeTurnIdFromError("no active turn to steer"), null);
});

test("the CommonJS and ESM wasm entries are the same module", () => {
  const cjs = require("codex-app-server-sdk/wasm");
  assert.equal(cjs.GoalAggregator, wasm.GoalAggregator);
  assert.equal(typeof cjs.decodeMessage, "function");
});

test("a live goal relayed notification by notification into wasm equals the native result", { timeout: 60_000 }, () =>
  withCodex([reply("Step one done."), goalStatus("complete"), reply("All done.")], async ({ codex }) => {
    const relay = codex.notifications();
    const thread = await codex.startThread();
    const agg = new wasm.GoalAggregator(thread.id);
    const pump = (async () => {
      for await (const n of relay) {
        agg.push(JSON.stringify(n));
        if (agg.done) break;
      }
    })();
    const native = await thread.runGoal("ship it");
    await pump;
    assert.deepEqual(agg.result(), native);
    agg.free();
  }));
