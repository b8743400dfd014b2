// The client itself on the real app-server: handshake, thread management, models, account, raw
// requests and RPC errors, notifications(), a bad codexPath, and close().
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Codex, CodexError, CodexRpcError, TimeoutError, TransportClosedError } from "../index.mjs";
import { makeCodexHome } from "./support/codex-home.mjs";
import { alive, first, withCodex } from "./support/harness.mjs";
import { gate, reply } from "./support/mock-model.mjs";

const T = { timeout: 60_000 };
const fake = (name) => fileURLToPath(new URL(`./fakes/${name}`, import.meta.url));

test("start() completes the handshake and reports the server", T, () =>
  withCodex([], async ({ codex, home }) => {
    assert.equal(codex.metadata.serverVersion, "0.169.0");
    assert.equal(codex.metadata.codexHome, home.dir);
    assert.match(codex.metadata.userAgent, /^codex-app-server-sdk\/0\.169\.0 /);
    assert.equal(typeof codex.metadata.platformOs, "string");
    assert.ok(Number.isInteger(codex.pid) && alive(codex.pid));
  }));

test("clientInfo reaches the server", T, () =>
  withCodex([], async ({ codex }) => assert.match(codex.metadata.userAgent, /^my-app\/0\.169\.0 .*my-app; 9\.9\.9/), {
    clientInfo: { name: "my-app", version: "9.9.9" },
  }));

test("thread management: start, read, name, list, fork, archive, unarchive, resume", T, () =>
  withCodex([reply("first answer")], async ({ codex }) => {
    const thread = await codex.startThread();
    assert.equal(typeof thread.id, "string");
    await thread.run("hello there");
    await thread.setName("My thread");
    const info = await thread.read({ includeTurns: true });
    assert.equal(info.id, thread.id);
    assert.equal(info.name, "My thread");
    assert.equal(info.turns.length, 1);
    assert.equal((await codex.readThread(thread.id)).id, thread.id);

    const list = await codex.listThreads();
    assert.ok(list.data.some((t) => t.id === thread.id), "the thread is listed");

    const fork = await codex.forkThread(thread.id);
    assert.notEqual(fork.id, thread.id);
    assert.equal((await fork.read()).forkedFromId, thread.id);

    await codex.archiveThread(thread.id);
    const archived = await codex.listThreads({ archived: true });
    assert.ok(archived.data.some((t) => t.id === thread.id), "archived threads list it");
    const back = await codex.unarchiveThread(thread.id);
    assert.equal(back.id, thread.id);

    const resumed = await codex.resumeThread(thread.id);
    assert.equal(resumed.id, thread.id);
  }));

test("compact() starts a compaction of the thread's history", T, () =>
  withCodex([reply("first answer"), reply("Summary: the user said hello.")], async ({ codex, model }) => {
    const thread = await codex.startThread();
    await thread.run("hello");
    const events = codex.notifications();
    await thread.compact();
    const done = await first(events, (n) => n.method === "turn/completed" && n.params.threadId === thread.id);
    assert.equal(done.params.turn.status, "completed");
    assert.equal(model.requests.length, 2, "the compaction asked the model for a summary");
    await events.return();
  }));

test("models() and account() answer with the protocol's shapes", T, () =>
  withCodex([], async ({ codex }) => {
    const models = await codex.models();
    assert.ok(Array.isArray(models.data));
    const account = await codex.account();
    assert.ok("account" in account);
    assert.equal(typeof account.requiresOpenaiAuth, "boolean");
  }));

test("loginApiKey() resolves once the login completed, and logout() logs out", T, () =>
  withCodex([], async ({ codex }) => {
    const events = codex.notifications();
    await codex.loginApiKey("sk-test-not-a-real-key");
    const updated = await first(events, (n) => n.method === "account/updated");
    assert.equal(updated.params.authMode, "apikey");
    await codex.logout();
    const out = await first(events, (n) => n.method === "account/updated");
    assert.equal(out.params.authMode, null);
    await assert.rejects(codex.loginApiKey(""), TypeError);
    await events.return();
  }));

test("request() sends raw requests; errors are CodexRpcError with code, method and message", T, () =>
  withCodex([], async ({ codex }) => {
    const started = await codex.request("thread/start", {});
    assert.equal(typeof started.thread.id, "string");
    const err = await codex.request("no/such/method", {}).catch((e) => e);
    assert.ok(err instanceof CodexRpcError, String(err));
    assert.ok(err instanceof CodexError);
    assert.equal(err.code, "ERR_RPC");
    assert.equal(err.method, "no/such/method");
    assert.equal(typeof err.rpcCode, "number");
    const bad = await codex.request("thread/read", { threadId: "not-a-thread" }).catch((e) => e);
    assert.ok(bad instanceof CodexRpcError);
    assert.equal(bad.method, "thread/read");
    assert.match(bad.message, /thread\/read: /);
    const threadErr = await codex.readThread("").catch((e) => e);
    assert.ok(threadErr instanceof TypeError);
  }));

test("request() honours timeoutMs and an abort signal, and the client stays usable", T, async () => {
  const codex = await Codex.start({ codexPath: fake("scripted-server.mjs") });
  try {
    const t0 = Date.now();
    const t = await codex.request("hang", {}, { timeoutMs: 200 }).catch((e) => e);
    assert.ok(t instanceof TimeoutError, String(t));
    assert.equal(t.code, "ERR_TIMEOUT");
    assert.equal(t.method, "hang");
    assert.ok(Date.now() - t0 < 5_000);
    const ac = new AbortController();
    const p = codex.request("hang", {}, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, { name: "AbortError" });
    assert.deepEqual(await codex.request("echo", { still: "usable" }), { still: "usable" });
  } finally {
    await codex.close();
  }
});

test("notifications() yields every notification from now on, and a signal ends it", T, () =>
  withCodex([reply("hi")], async ({ codex }) => {
    const ac = new AbortController();
    const all = codex.notifications({ signal: ac.signal });
    const thread = await codex.startThread();
    const started = await first(all, (n) => n.method === "thread/started");
    assert.equal(started.params.thread.id, thread.id);
    await thread.run("hi");
    const completed = await first(all, (n) => n.method === "turn/completed");
    assert.equal(completed.params.threadId, thread.id);
    const pending = all.next();
    ac.abort();
    await assert.rejects(pending, { name: "AbortError" });
    assert.deepEqual(await all.next(), { done: true, value: undefined });
  }));

test("a bad codexPath rejects with ERR_SPAWN naming the path", T, async () => {
  const err = await Codex.start({ codexPath: "/nonexistent/codex-binary" }).catch((e) => e);
  assert.ok(err instanceof CodexError);
  assert.equal(err.code, "ERR_SPAWN");
  assert.match(err.message, /\/nonexistent\/codex-binary/);
});

test("a binary that is not an app-server fails the handshake with its stderr", T, async () => {
  const err = await Codex.start({ codexPath: "/bin/false", startupTimeoutMs: 10_000 }).catch((e) => e);
  assert.ok(err instanceof TransportClosedError, String(err));
  assert.equal(err.exitCode, 1);
});

test("a handshake that never completes times out with TimeoutError", T, async () => {
  const t0 = Date.now();
  const err = await Codex.start({ codexPath: fake("silent.mjs"), startupTimeoutMs: 500 }).catch((e) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.ok(Date.now() - t0 < 5_000);
});

test("close() ends the process, settles a running turn, and is idempotent", T, async () => {
  const held = gate();
  const { startMockModel } = await import("./support/mock-model.mjs");
  const model = await startMockModel([[...reply("x").slice(0, 2), held.event]]);
  const home = makeCodexHome(model.url);
  try {
    const codex = await Codex.start({ env: home.env });
    const pid = codex.pid;
    const thread = await codex.startThread();
    const turn = await thread.turn("never ends");
    const events = turn[Symbol.asyncIterator]();
    await model.waitForRequests(1);
    await Promise.all([codex.close(), codex.close()]);
    await codex.close();
    assert.equal(alive(pid), false, "the app-server is gone");
    await assert.rejects(turn.result(), TransportClosedError);
    await assert.rejects(async () => { while (!(await events.next()).done); }, TransportClosedError);
    await assert.rejects(codex.startThread(), TransportClosedError);
    held.release();
  } finally {
    await model.close();
    home.cleanup();
  }
});

test("await using closes the client", T, async () => {
  const home = makeCodexHome("http://127.0.0.1:9/v1");
  let pid;
  try {
    {
      const codex = await Codex.start({ env: home.env });
      pid = codex.pid;
      await codex[Symbol.asyncDispose]();
    }
    assert.equal(alive(pid), false);
  } finally {
    home.cleanup();
  }
});
