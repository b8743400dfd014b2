// Failure behaviour: every wait bounded, crashes settle everything, hostile output is survived,
// server requests are always answered, overloads are retried, and hosts are left clean.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { Codex, CodexRpcError, TransportClosedError } from "../index.mjs";
import { makeCodexHome } from "./support/codex-home.mjs";
import { alive, first, withCodex } from "./support/harness.mjs";
import { gate, reply, startMockModel } from "./support/mock-model.mjs";

const T = { timeout: 60_000 };
const here = path.dirname(fileURLToPath(import.meta.url));
const fakePath = path.join(here, "fakes/scripted-server.mjs");
const withFake = async (fn, options = {}) => {
  const codex = await Codex.start({ codexPath: fakePath, ...options });
  try {
    return await fn(codex);
  } finally {
    await codex.close();
  }
};

/** Resolves once `pid` is gone, polling (a non-child's exit cannot be awaited), within `ms`. */
async function gone(pid, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

// ---- process supervision ----

test("the app-server dying mid-request rejects everything pending within a second, with exit code and stderr", T, () =>
  withFake(async (codex) => {
    const hanging = codex.request("hang");
    const events = codex.notifications();
    const pendingEvent = events.next();
    const t0 = Date.now();
    const dying = codex.request("die", { code: 7, stderr: "fatal: disk on fire\n" });
    const settled = await Promise.allSettled([dying, hanging, pendingEvent]);
    for (const s of settled) {
      assert.equal(s.status, "rejected");
      const err = s.reason;
      assert.ok(err instanceof TransportClosedError, String(err));
      assert.equal(err.exitCode, 7);
      assert.equal(err.signal, null);
      assert.match(err.stderrTail, /disk on fire/);
      assert.match(err.message, /exited with code 7/);
    }
    assert.ok(Date.now() - t0 < 1_000, `settled in ${Date.now() - t0} ms`);
    await assert.rejects(codex.request("echo", {}), TransportClosedError);
  }));

test("the real app-server killed mid-turn settles the turn, its stream and notifications()", T, () => {
  const g = gate();
  return withCodex([[...reply("x").slice(0, 2), g.event]], async ({ codex, model }) => {
    const all = codex.notifications();
    const thread = await codex.startThread();
    const turn = await thread.turn("long");
    const stream = turn[Symbol.asyncIterator]();
    await model.waitForRequests(1);
    const t0 = Date.now();
    process.kill(codex.pid, "SIGKILL");
    const results = await Promise.allSettled([turn.result(), (async () => { while (!(await stream.next()).done); })(), (async () => { while (!(await all.next()).done); })()]);
    for (const r of results) {
      assert.equal(r.status, "rejected");
      assert.ok(r.reason instanceof TransportClosedError, String(r.reason));
      assert.equal(r.reason.signal, "SIGKILL");
    }
    assert.ok(Date.now() - t0 < 1_000, `settled in ${Date.now() - t0} ms`);
    g.release();
  });
});

test("a program that ends without close() exits by itself and leaves no app-server behind", T, async () => {
  const model = await startMockModel([reply("hello")]);
  const home = makeCodexHome(model.url);
  try {
    const child = promisify(execFile)(process.execPath, [path.join(here, "support/ends-without-close.mjs")], {
      env: { ...process.env, TEST_CODEX_ENV: JSON.stringify(home.env) },
      timeout: 30_000,
    });
    const { stdout } = await child;
    const { pid, status } = JSON.parse(stdout);
    assert.equal(status, "completed");
    assert.ok(await gone(pid), `app-server ${pid} outlived its parent`);
  } finally {
    await model.close();
    home.cleanup();
  }
});

test("twenty clients started and closed in parallel leave nothing running", { timeout: 120_000 }, async () => {
  const homes = Array.from({ length: 20 }, () => makeCodexHome("http://127.0.0.1:9/v1"));
  try {
    const clients = await Promise.all(homes.map((h) => Codex.start({ env: h.env })));
    const pids = clients.map((c) => c.pid);
    assert.equal(new Set(pids).size, 20);
    assert.ok(pids.every(alive));
    await Promise.all(clients.map((c) => c.close()));
    assert.deepEqual(pids.filter(alive), [], "every app-server was reaped");
  } finally {
    homes.forEach((h) => h.cleanup());
  }
});

// ---- hostile output ----

test("noise before the first frame and between frames is skipped and reported as sdk/warning", T, () =>
  withFake(
    async (codex) => {
      assert.match(codex.metadata.userAgent, /^fake\//, "the handshake survived a banner");
      const events = codex.notifications();
      await codex.request("emit", { lines: ["Welcome to bash!", "{not json", "", "[1,2,3]"] });
      const warnings = [];
      for (let i = 0; i < 3; i++) warnings.push(await first(events, (n) => n.method === "sdk/warning"));
      assert.deepEqual(warnings.map((w) => w.params.line), ["Welcome to bash!", "{not json", "[1,2,3]"]);
      assert.match(warnings[0].params.message, /not JSON/);
      assert.deepEqual(await codex.request("echo", { ok: 1 }), { ok: 1 });
    },
    { env: { FAKE_BANNER: "motd: hello from the login shell" } },
  ));

test("a 20 MB line arrives whole", T, () =>
  withFake(async (codex) => {
    const events = codex.notifications();
    const big = "x".repeat(20 * 1024 * 1024);
    await codex.request("emit", { lines: [JSON.stringify({ method: "big/thing", params: { blob: big } })] });
    const n = await first(events, (e) => e.method === "big/thing");
    assert.equal(n.params.blob.length, big.length);
    assert.deepEqual(await codex.request("echo", { after: true }), { after: true });
  }));

test("duplicate and unknown response ids, unknown methods and unknown fields never break routing", T, () =>
  withFake(async (codex) => {
    const events = codex.notifications();
    assert.deepEqual(await codex.request("echo", { n: 1 }), { n: 1 }); // request id 2
    const strangeNotification = { method: "brand/new", params: { threadId: "t", novel: { deep: [1, 2] } }, extraTopLevel: true };
    await codex.request("emit", {
      lines: [
        JSON.stringify({ id: 2, result: "a duplicate of an answered response" }),
        JSON.stringify({ id: 424242, result: {} }),
        JSON.stringify({ id: "nobody", error: { code: -1, message: "for nobody" } }),
        JSON.stringify(strangeNotification),
      ],
    });
    const n = await first(events, (e) => e.method === "brand/new");
    assert.deepEqual(n, strangeNotification, "unknown methods and fields pass through untouched");
    assert.deepEqual(await codex.request("echo", { n: 2 }), { n: 2 });
  }));

test("a consumer slower than the app-server gets every delta's text, in bounded notifications", T, async () => {
  const deltas = 50_000;
  const codex = await Codex.start({ codexPath: path.join(here, "../bench/flood-server.mjs"), env: { FLOOD_DELTAS: String(deltas) } });
  try {
    const thread = await codex.startThread();
    const turn = await thread.turn("flood");
    const events = turn[Symbol.asyncIterator]();
    const first = await events.next(); // iterating: the stream is kept
    await turn.result(); // the whole flood has arrived while nobody read it
    const rest = [first.value];
    for (let e = await events.next(); !e.done; e = await events.next()) rest.push(e.value);
    const received = rest.filter((n) => n.method === "item/agentMessage/delta");
    assert.ok(received.length < deltas, `merged past the backlog limit (${received.length} of ${deltas})`);
    assert.ok(received.length >= 8192, "nothing merged below the limit");
    let expected = "";
    for (let i = 0; i < deltas; i++) expected += `token ${i} `;
    assert.equal(received.map((n) => n.params.delta).join(""), expected, "no text lost, order kept");
    assert.equal(rest.at(-1).method, "turn/completed");
  } finally {
    await codex.close();
  }
});

test("mergeDeltasAfter: Infinity delivers every notification as sent; a small limit merges sooner, losing nothing", T, async () => {
  const deltas = 20_000;
  let expected = "";
  for (let i = 0; i < deltas; i++) expected += `token ${i} `;
  const received = async (mergeDeltasAfter) => {
    const codex = await Codex.start({ codexPath: path.join(here, "../bench/flood-server.mjs"), env: { FLOOD_DELTAS: String(deltas) }, mergeDeltasAfter });
    try {
      const turn = await (await codex.startThread()).turn("flood");
      const events = turn[Symbol.asyncIterator]();
      const first = await events.next();
      await turn.result(); // the whole flood waits for a consumer that has not read it
      const all = [first.value];
      for (let e = await events.next(); !e.done; e = await events.next()) all.push(e.value);
      const got = all.filter((n) => n.method === "item/agentMessage/delta");
      assert.equal(got.map((n) => n.params.delta).join(""), expected, "no text lost, order kept");
      return got.length;
    } finally {
      await codex.close();
    }
  };
  assert.equal(await received(Infinity), deltas, "every delta as sent");
  const merged = await received(100);
  assert.ok(merged >= 100 && merged < 1000, `merged past 100 waiting (${merged} notifications)`);
  await assert.rejects(Codex.start({ codexPath: path.join(here, "../bench/flood-server.mjs"), mergeDeltasAfter: 0 }), { code: "ERR_INVALID_ARGUMENT", name: "RangeError" });
});

// ---- server requests ----

test("without a handler: approvals are declined, anything else gets a JSON-RPC error", T, () =>
  withFake(async (codex) => {
    const approval = await codex.request("ask", { method: "item/commandExecution/requestApproval", params: { command: "rm -rf /" } });
    assert.deepEqual(approval.result, { decision: "decline" });
    const legacy = await codex.request("ask", { method: "execCommandApproval", params: {} });
    assert.ok(legacy.result.decision.denied);
    const other = await codex.request("ask", { method: "item/tool/requestUserInput", params: {} });
    assert.equal(other.error.code, -32601);
    assert.match(other.error.message, /item\/tool\/requestUserInput/);
  }));

test("a handler that never settles is bounded: the default answer goes out and its signal aborts", T, async () => {
  let seen;
  await withFake(
    async (codex) => {
      const t0 = Date.now();
      const answer = await codex.request("ask", { method: "item/fileChange/requestApproval", params: {} });
      assert.deepEqual(answer.result, { decision: "decline" });
      assert.ok(Date.now() - t0 >= 200);
      await new Promise((r) => (seen.signal.aborted ? r() : seen.signal.addEventListener("abort", r)));
      assert.equal(seen.signal.reason.code, "ERR_REQUEST_RESOLVED");
    },
    {
      serverRequestTimeoutMs: 200,
      onServerRequest: (req, ctx) => {
        seen = ctx;
        return new Promise(() => {});
      },
    },
  );
});

test("a handler that throws answers with a JSON-RPC error carrying its message", T, () =>
  withFake(
    async (codex) => {
      const answer = await codex.request("ask", { method: "item/tool/call", params: {} });
      assert.equal(answer.error.code, -32603);
      assert.match(answer.error.message, /no tools here/);
    },
    {
      onServerRequest: () => {
        throw new Error("no tools here");
      },
    },
  ));

test("serverRequest/resolved aborts the handler's signal", T, async () => {
  let signal;
  const asked = Promise.withResolvers?.() ?? (() => { let resolve; const promise = new Promise((r) => (resolve = r)); return { promise, resolve }; })();
  await withFake(
    async (codex) => {
      codex.request("ask", { method: "item/tool/requestUserInput", params: {} }).catch(() => {});
      await asked.promise;
      await codex.request("emit", { lines: [JSON.stringify({ method: "serverRequest/resolved", params: { threadId: "t", requestId: "srv-1" } })] });
      await new Promise((r) => (signal.aborted ? r() : signal.addEventListener("abort", r)));
      assert.equal(signal.reason.code, "ERR_REQUEST_RESOLVED");
    },
    {
      onServerRequest: (req, ctx) => {
        signal = ctx.signal;
        asked.resolve();
        return new Promise(() => {});
      },
    },
  );
});

// ---- no panics across the boundary ----

test("a panic inside the addon becomes an error, and the process lives on", async () => {
  const { createRequire } = await import("node:module");
  const binding = createRequire(import.meta.url)("../dist/native.js").binding;
  assert.throws(() => binding.__panicForTests(), /deliberate panic \(sync\)/);
  // Errors cross the boundary as data: the async panic comes back as an ERR_PANIC error object.
  const err = await binding.__panicForTestsAsync();
  assert.equal(err.code, "ERR_PANIC");
  assert.match(err.message, /deliberate panic \(async\)/);
  // Still alive and working after both.
  await withFake(async (codex) => assert.deepEqual(await codex.request("echo", { alive: true }), { alive: true }));
});

// ---- overload ----

test("an overloaded read is retried with backoff; writes and exhausted retries surface -32001", T, () =>
  withFake(async (codex) => {
    const t0 = Date.now();
    const r = await codex.request("thread/read", { threadId: "t1", failures: 2 });
    assert.equal(r.thread.attempts, 3, "two overloads, then success");
    assert.ok(Date.now() - t0 >= 50, "it backed off");
    const write = await codex.request("turn/start", { threadId: "t1", input: [] }).catch((e) => e);
    assert.ok(write instanceof CodexRpcError);
    assert.equal(write.rpcCode, -32001);
    const exhausted = await codex.request("thread/read", { threadId: "t2", failures: 100 }).catch((e) => e);
    assert.ok(exhausted instanceof CodexRpcError);
    assert.equal(exhausted.rpcCode, -32001);
  }));

// ---- hosts ----

test("the addon works in a worker thread and on the main thread at once", T, async () => {
  const model = await startMockModel([], { fallback: () => reply("hello from the model") });
  const home = makeCodexHome(model.url);
  try {
    const worker = new Worker(path.join(here, "support/worker.mjs"), { workerData: { env: home.env } });
    const fromWorker = new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    const main = await Codex.start({ env: home.env });
    try {
      const mainResult = await (await main.startThread()).run("from main");
      const w = await fromWorker;
      assert.equal(w.finalResponse, "hello from the model");
      assert.equal(mainResult.finalResponse, "hello from the model");
      assert.notEqual(w.pid, main.pid);
    } finally {
      await main.close();
    }
    assert.equal(await exited, 0);
  } finally {
    await model.close();
    home.cleanup();
  }
});
