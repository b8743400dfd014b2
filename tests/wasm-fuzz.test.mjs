// The wasm build's JS boundary under hostile input: every export, fed thousands of random and
// adversarial values (cycles, throwing getters and toJSON, BigInts, symbols, proxies, nesting
// thousands deep, lone surrogates, megabyte strings), must return or throw an Error with a message:
// never a WebAssembly trap. And the module, and the aggregator that threw, must keep working.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as wasm from "codex-app-server-sdk/wasm";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "../crates/engine/tests/fixtures");
const GOAL = fs.readFileSync(path.join(fixtures, "goal-complete-after-continuation.jsonl"), "utf8").trim().split("\n");
const threadOf = (lines) => JSON.parse(lines.find((l) => l.includes('"threadId"'))).params.threadId;

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function deepObject(depth) {
  let v = { method: "turn/started", params: { threadId: "t" } };
  for (let i = 0; i < depth; i++) v = { method: "item/completed", params: { threadId: "t", turnId: "u", item: v } };
  return v;
}

const hostile = [
  undefined, null, true, 0, -0, NaN, Infinity, 1e308, 2 ** 53 + 1, 10n, Symbol("s"), () => {}, [], [1, [2]],
  "", "{", "[1,2]", "null", "\ud800", "{\"method\":\"\\ud800\"}", "x".repeat(1 << 20),
  `{"method":"m","params":${"[".repeat(10000)}${"]".repeat(10000)}}`,
  `${"{\"a\":".repeat(3000)}1${"}".repeat(3000)}`,
  deepObject(3000), deepObject(20000),
  (() => { const o = { method: "m" }; o.params = o; return o; })(),
  { method: "m", get params() { throw new Error("getter says no"); } },
  { method: "m", toJSON() { throw new Error("toJSON says no"); } },
  { method: "m", params: { n: 1n } },
  { method: 5 }, { method: "turn/started", params: 5 }, { method: "turn/completed", params: { turn: 5 } },
  { method: "turn/started", params: { threadId: "t", turn: { id: 7 } } },
  { method: "thread/goal/updated", params: { threadId: "t", goal: { status: ["x"] } } },
  { method: "item/completed", params: { threadId: "t", turnId: "u", item: null } },
  new Proxy({}, { ownKeys() { throw new Error("proxy says no"); } }),
  new Map([["method", "m"]]), new Date(0), new Uint8Array(4), Object.create(null),
];

function randomString(r) {
  const len = Math.floor(r() * 40);
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(Math.floor(r() * 0xffff));
  return s;
}

function randomValue(r, depth = 0) {
  const pick = Math.floor(r() * 9);
  if (depth > 4 || pick < 3) return hostile[Math.floor(r() * hostile.length)];
  if (pick < 5) return randomString(r);
  if (pick < 7) return JSON.stringify({ method: r() < 0.5 ? "turn/started" : randomString(r), params: { threadId: r() < 0.7 ? "t" : randomString(r), turnId: randomString(r), turn: { id: randomString(r), status: randomString(r) } } });
  const o = {};
  for (let i = 0; i < 3; i++) o[r() < 0.5 ? ["method", "params", "id", "threadId", "turnId"][i] : randomString(r)] = randomValue(r, depth + 1);
  return o;
}

/** Calls `f`; it must return, or throw an Error with a message and a code that is not a WebAssembly
 * trap. Counts the errors by code. */
const codes = {};
function survives(f, what) {
  try {
    f();
  } catch (err) {
    assert.ok(!(err instanceof WebAssembly.RuntimeError), `${what}: trapped: ${err?.message}`);
    assert.ok(err instanceof Error, `${what}: threw a non-Error ${String(err)}`);
    assert.ok(err.message.length > 0, `${what}: an Error without a message`);
    assert.match(String(err.code), /^ERR_(INVALID_ARGUMENT|INVALID_STATE)$/, `${what}: an Error without a code: ${err.message}`);
    codes[err.code] = (codes[err.code] ?? 0) + 1;
  }
}

function assertUsable() {
  const agg = new wasm.GoalAggregator(threadOf(GOAL));
  for (const l of GOAL) agg.push(l);
  assert.equal(agg.done, true);
  assert.equal(agg.result().status, "completed");
  agg.free();
}

test("every wasm export survives hostile values and the module stays usable", { timeout: 120_000 }, () => {
  const r = rng(20261125);
  const calls = [
    (a) => new wasm.GoalAggregator(a).free(),
    (a, b) => new wasm.TurnAggregator(a, b).free(),
    (a) => wasm.decodeMessage(a),
    (a, b, c) => wasm.encodeRequest(a, b, c),
    (a) => wasm.activeTurnIdFromError(a),
  ];
  const agg = new wasm.GoalAggregator("t");
  let n = 0;
  for (const value of hostile) {
    for (const call of calls) survives(() => call(value, value, value), `hostile #${hostile.indexOf(value)}`);
    survives(() => agg.push(value), `push hostile #${hostile.indexOf(value)}`);
    n += calls.length + 1;
  }
  for (let i = 0; i < 3000; i++) {
    const [a, b, c] = [randomValue(r), randomValue(r), randomValue(r)];
    survives(() => calls[i % calls.length](a, b, c), `random call ${i}`);
    survives(() => agg.push(a), `random push ${i}`);
    n += 2;
    if (i % 500 === 0) assertUsable();
  }
  // The aggregator that threw thousands of times still aggregates.
  survives(() => agg.push(JSON.stringify({ method: "turn/started", params: { threadId: "t", turn: { id: "after" } } })), "valid push");
  assert.equal(agg.logicalTurnId ?? "after", agg.logicalTurnId);
  assertUsable();
  agg.free();
  assert.throws(() => agg.push("{}"), (e) => /freed/.test(e.message) && e.code === "ERR_INVALID_STATE");
  const busy = new wasm.GoalAggregator("t");
  assert.throws(() => busy.result(), (e) => /not over yet/.test(e.message) && e.code === "ERR_INVALID_STATE");
  busy.free();
  assert.throws(() => busy.logicalTurnId, (e) => e.code === "ERR_INVALID_STATE");
  console.log(`${n} calls into the wasm module, none trapped; errors by code: ${JSON.stringify(codes)}`);
});

test("wrong argument types are TypeErrors with ERR_INVALID_ARGUMENT, checked before the module is entered", () => {
  for (const [f, pattern] of [
    [() => new wasm.GoalAggregator(42), /GoalAggregator: threadId must be a string, got number/],
    [() => new wasm.TurnAggregator("t"), /TurnAggregator: turnId must be a string, got undefined/],
    [() => wasm.decodeMessage(42), /decodeMessage: line must be a string, got number/],
    [() => wasm.encodeRequest(1, 5), /encodeRequest: method must be a string, got number/],
    [() => wasm.encodeRequest(1.5, "m"), /encodeRequest: id must be a string or an integer/],
    [() => wasm.activeTurnIdFromError({}), /activeTurnIdFromError: message must be a string/],
    [() => new wasm.GoalAggregator("t").push(5), /push: a message must be an object or a JSON line, got number/],
  ]) {
    assert.throws(f, (err) => err instanceof TypeError && err.code === "ERR_INVALID_ARGUMENT" && pattern.test(err.message));
  }
  // A message the engine must read (item/completed) that JSON cannot carry is refused by name, not
  // trapped on: a cycle, a BigInt. (A delta is routed on its ids alone and never serialised.)
  const cyclic = { method: "item/completed" };
  cyclic.params = cyclic;
  assert.throws(() => new wasm.GoalAggregator("t").push(cyclic), /push: the message cannot be read as JSON: .*circular/i);
  assert.throws(() => new wasm.GoalAggregator("t").push({ method: "item/completed", params: { n: 1n } }), /BigInt/);
  // Nesting deeper than anything the engine reads is no stack overflow inside the module: as an
  // object, JS itself cannot serialise it (a TypeError); as text, the engine's parser stops at its
  // depth limit and the part it cannot read counts as absent.
  assert.throws(() => new wasm.GoalAggregator("t").push(deepObject(3000)), /push: the message cannot be read as JSON/);
  const deepLine = `{"method":"item/completed","params":{"threadId":"t","item":${"[".repeat(3000)}${"]".repeat(3000)}}}`;
  const agg = new wasm.GoalAggregator("t");
  assert.deepEqual(agg.push(deepLine), []);
  assert.deepEqual(agg.push({ method: "turn/started", params: { threadId: "t", turn: { id: "u" } } }).length, 1, "still usable");
});
