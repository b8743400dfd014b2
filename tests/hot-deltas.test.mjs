// Deltas cross the native binding as fields and are built in JavaScript (src/iterate.ts `build`),
// not parsed: every notification must still be exactly what `JSON.parse` gives for its line — same
// keys in the same order, same values, plain prototypes, escapes and non-BMP text decoded alike —
// for every recorded transcript and for generated lines that bend the shape every way we know.
// Lines go through the whole reader: the fake app-server writes them, `notifications()` yields them.
// The wasm build is held to the same: the aggregators hand out what they are given, relabelled or not.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as wasm from "codex-app-server-sdk/wasm";
import { Codex } from "../index.mjs";
import { seeded } from "./support/goal-model.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const fakePath = path.join(here, "fakes/scripted-server.mjs");
const fixtures = path.join(here, "../crates/engine/tests/fixtures");
const T = { timeout: 60_000 };

/** What `notifications()` yields for `lines`, written by the app-server as they are. */
async function delivered(lines) {
  const codex = await Codex.start({ codexPath: fakePath });
  try {
    const events = codex.notifications();
    for (let i = 0; i < lines.length; i += 500) await codex.request("emit", { lines: lines.slice(i, i + 500) });
    const got = [];
    // Bounded: a line lost or added would otherwise leave this waiting for one more.
    setTimeout(() => events.return(), 20_000).unref();
    for await (const n of events) {
      got.push(n);
      if (got.length === lines.length) break;
    }
    assert.equal(got.length, lines.length, "one notification per line");
    return got;
  } finally {
    await codex.close();
  }
}

/** Same keys in the same order, same values, plain prototypes, all the way down. */
function assertAsParsed(got, line) {
  const want = JSON.parse(line);
  assert.deepStrictEqual(got, want, line);
  const order = (v) => (v && typeof v === "object" ? Object.entries(v).map(([k, x]) => [k, order(x)]) : v);
  assert.deepStrictEqual(order(got), order(want), `key order: ${line}`);
  assert.equal(Object.getPrototypeOf(got), Object.prototype);
  if (got.params) assert.equal(Object.getPrototypeOf(got.params), Object.prototype);
}

const HOT = [
  ["item/agentMessage/delta", null],
  ["item/reasoning/textDelta", "contentIndex"],
  ["item/reasoning/summaryTextDelta", "summaryIndex"],
  ["item/plan/delta", null],
  ["item/commandExecution/outputDelta", null],
  ["item/fileChange/outputDelta", null],
];

/** Delta lines in the wire's shape and bent out of it, from a seeded generator. */
function generated(count, seed, fixed = {}) {
  const rand = seeded(seed);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const pieces = ["a", "token ", " ", "é", "😀", "\u2028", "\"", "\\", "\n", "\t", "\u0000", "\u001f", "/", "\ud800", "\udfff", "中文", "<>&", "\u{10FFFF}"];
  const text = () => Array.from({ length: Math.floor(rand() * 6) }, () => pick(pieces)).join("");
  const id = () => pick(["019dd1a0-8d8f-75b2-ad6a-8d151c7db0c7", "msg_1", "rs_2", "", "x".repeat(40), "id\"q", "é"]);
  const lines = [];
  // With `fixed.runs`, the method and item carry over for runs of up to 12 lines, as a stream's do.
  let run = 0;
  let shape = HOT[0];
  let item = "";
  for (let i = 0; i < count; i++) {
    if (!fixed.runs || run-- <= 0) {
      shape = pick(HOT);
      item = id();
      run = Math.floor(rand() * 12);
    }
    const [method, indexField] = shape;
    let params = { threadId: fixed.threadId ?? id(), turnId: fixed.turnId ?? id(), itemId: fixed.runs ? item : id(), delta: text() };
    if (indexField) params[indexField] = pick([0, 1, 7, 123456789]);
    const top = { method, params };
    if (rand() < 0.7) top.emittedAtMs = pick([1795552677372, 0, 999999999999999]);
    let line = JSON.stringify(top);
    switch (Math.floor(rand() * 14)) {
      case 0: // another key order
        params = { turnId: params.turnId, ...params };
        line = JSON.stringify({ ...top, params });
        break;
      case 1: // an extra field
        line = JSON.stringify({ ...top, params: { ...params, extra: [1, { a: null }] } });
        break;
      case 2: // escapes a serialiser would not write, which a parser still reads
        line = line.replace(/"delta":"/, '"delta":"\\/\\u0041\\u00e9\\ud83d\\ude00');
        break;
      case 3: // whitespace
        line = line.replace(/,"params":/, ', "params": ');
        break;
      case 4: // numbers in other forms
        line = line.replace(/"emittedAtMs":\d+/, pick(['"emittedAtMs":1.5e12', '"emittedAtMs":-1', '"emittedAtMs":12345678901234567', '"emittedAtMs":1795552677372.0']));
        break;
      case 5: // a method that is not hot, in the same shape
        line = line.replace(method, pick(["item/agentMessage/deltas", "item/started", "warning"]));
        break;
      case 6: // fields at the top that a notification does not have
        line = JSON.stringify({ ...top, jsonrpc: "2.0" });
        break;
      case 7: // an index of another kind
        if (indexField) line = line.replace(new RegExp(`"${indexField}":\\d+`), `"${indexField}":${pick(["-3", "1.5", "4294967296", "null", '"2"'])}`);
        break;
      default:
        break;
    }
    lines.push(line);
  }
  return lines;
}

test("every recorded transcript crosses exactly as JSON.parse reads it", T, async () => {
  const lines = fs
    .readdirSync(fixtures)
    .filter((f) => f.endsWith(".jsonl"))
    .flatMap((f) => fs.readFileSync(path.join(fixtures, f), "utf8").split("\n").filter(Boolean));
  assert.ok(lines.filter((l) => l.includes('"item/agentMessage/delta"')).length >= 20, "the transcripts hold deltas");
  const got = await delivered(lines);
  lines.forEach((line, i) => assertAsParsed(got[i], line));
});

test("generated deltas — escapes, surrogates, other key orders, extra fields, other numbers — cross exactly as JSON.parse reads them", T, async () => {
  const lines = generated(6_000, 20261206);
  const got = await delivered(lines);
  lines.forEach((line, i) => assertAsParsed(got[i], line));
});

test("a line that is not JSON among deltas becomes a warning, and the deltas around it still arrive", T, async () => {
  const [a, b] = generated(2, 7);
  const got = await delivered([a, '{"method":"item/agentMessage/delta","params":{', b]);
  assertAsParsed(got[0], a);
  assert.equal(got[1].method, "sdk/warning");
  assert.match(got[1].params.message, /not JSON/);
  assertAsParsed(got[2], b);
});

test("the wasm aggregators hand out the same deltas exactly as JSON.parse reads them, on a turn and on a goal", () => {
  const threadId = "019dd1a0-8d8f-75b2-ad6a-8d151c7db0c7";
  const turnId = "019dd1a0-8d9e-7430-a3db-ff3da4e6b3c5";
  const hot = new Set(HOT.map(([m]) => m));
  const lines = generated(3_000, 11, { threadId, turnId, runs: true }).filter((l) => hot.has(JSON.parse(l).method));
  assert.ok(lines.length > 2_000, `${lines.length} delta lines`);
  const started = JSON.stringify({ method: "turn/started", params: { threadId, turn: { id: turnId, items: [], status: "inProgress", error: null } } });
  for (const aggregator of [new wasm.TurnAggregator(threadId, turnId), new wasm.GoalAggregator(threadId)]) {
    assert.equal(aggregator.push(started).length, 1);
    for (const line of lines) {
      const out = aggregator.push(line);
      assert.equal(out.length, 1, line);
      assertAsParsed(out[0], line);
    }
    aggregator.free();
  }
});

test("the wasm aggregators read a line that starts as the last delta did but is bent after it exactly as JSON.parse does, or refuse it as it does", () => {
  const threadId = "019dd1a0-8d8f-75b2-ad6a-8d151c7db0c7";
  const turnId = "019dd1a0-8d9e-7430-a3db-ff3da4e6b3c5";
  const started = JSON.stringify({ method: "turn/started", params: { threadId, turn: { id: turnId, items: [], status: "inProgress", error: null } } });
  const head = (method) => `{"method":"${method}","params":{"threadId":"${threadId}","turnId":"${turnId}","itemId":"msg_1","delta":"`;
  const agent = head("item/agentMessage/delta");
  const reasoning = head("item/reasoning/textDelta");
  const bent = [
    [agent, 'plain"}}'],
    [agent, 'a\u0000b"}}'], // a raw control character: not JSON
    [agent, 'a\nb"}}'],
    [agent, 'a\\nb\\"c\\\\"}}'],
    [agent, 'a\\qb"}}'], // an escape JSON does not have
    [agent, 'a\\u12"}}'],
    [agent, 'a\\ud800"}}'], // a lone surrogate, escaped
    [agent, 'a\ud800"}}'], // and raw
    [agent, 'a"}'], // cut short
    [agent, 'a"}}x'],
    [agent, 'a"} }'],
    [agent, 'a","delta":"b"}}'], // the key twice: the last one wins
    [agent, 'a"},"emittedAtMs":1795552677372}'],
    [agent, 'a"},"emittedAtMs":01}'],
    [agent, 'a"},"emittedAtMs":1e3}'],
    [agent, 'a"},"emittedAtMs":-1}'],
    [agent, 'a"},"emittedAtMs":9999999999999999}'],
    [agent, 'a"},"emittedAtMs":1}}'],
    [agent, 'a","contentIndex":1}}'], // an index this method has not
    [reasoning, 'a","contentIndex":0}}'],
    [reasoning, 'a","contentIndex":07}}'],
    [reasoning, 'a","contentIndex":4294967296}}'],
    [reasoning, 'a","summaryIndex":1}}'],
    [reasoning, 'a"}}'], // the index missing
    [reasoning, 'a","contentIndex":2},"emittedAtMs":0}'],
  ];
  for (const Make of [() => new wasm.TurnAggregator(threadId, turnId), () => new wasm.GoalAggregator(threadId)]) {
    for (const [prefix, rest] of bent) {
      const aggregator = Make();
      aggregator.push(started);
      // The same prefix twice first, so the line under test meets one that was read already.
      for (let i = 0; i < 2; i++) assertAsParsed(aggregator.push(`${prefix}x${i}"${prefix === reasoning ? ',"contentIndex":3' : ""}}}`)[0], `${prefix}x${i}"${prefix === reasoning ? ',"contentIndex":3' : ""}}}`);
      const line = prefix + rest;
      let want;
      try {
        want = JSON.parse(line);
      } catch {
        assert.throws(() => aggregator.push(line), { code: "ERR_INVALID_ARGUMENT", message: /not JSON/ }, line);
        aggregator.free();
        continue;
      }
      const out = aggregator.push(line);
      assert.equal(out.length, 1, line);
      assert.deepStrictEqual(out[0], want, line);
      assert.deepStrictEqual(Object.keys(out[0].params), Object.keys(want.params), line);
      aggregator.free();
    }
  }
});
