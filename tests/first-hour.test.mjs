// What a new user meets first, on the real app-server: an app-server with no account signed in, a
// model it cannot reach, servers that refuse at the door, secrets in URLs, and a turn's stream read
// twice. Each must fail at once, or within a documented bound, with a code and what to do.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Codex, CodexError, TransportClosedError } from "../index.mjs";
import { shellHome } from "./support/codex-home.mjs";
import { makeCodexHome } from "./support/codex-home.mjs";
import { collect, withCodex } from "./support/harness.mjs";
import { reply } from "./support/mock-model.mjs";
import { startRelay, startServer } from "./support/server.mjs";

const T = { timeout: 60_000 };
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../cli/codex-goal.mjs");

/** A CODEX_HOME as a new user has it: no config (the OpenAI provider), no account. */
function freshHome() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "codex-sdk-fresh-"));
  return { dir, env: { CODEX_HOME: dir, CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG: "1", RUST_LOG: "warn", HOME: shellHome(dir) }, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A CODEX_HOME whose model provider is a port nothing listens on: the server retries, then waits for the network. */
async function unreachableHome() {
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address();
  await new Promise((r) => probe.close(r));
  const home = makeCodexHome(`http://127.0.0.1:${port}/v1`);
  const config = path.join(home.dir, "config.toml");
  fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace("stream_max_retries = 0", "stream_max_retries = 3"));
  return home;
}

function runBin(args, env) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const t0 = Date.now();
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 })));
}

test("with no account signed in, turns and goals fail at once with ERR_AUTH saying how to sign in; after loginApiKey they start", T, async () => {
  const home = freshHome();
  const codex = await Codex.start({ env: home.env, modelUnreachableTimeoutMs: 3_000 });
  try {
    const account = await codex.account();
    assert.equal(account.account, null);
    assert.equal(account.requiresOpenaiAuth, true);
    const thread = await codex.startThread();
    for (const start of [() => thread.turn("hello"), () => thread.goal("do it"), () => thread.run("hello")]) {
      const t0 = Date.now();
      const err = await start().catch((e) => e);
      assert.ok(err instanceof CodexError, String(err));
      assert.equal(err.code, "ERR_AUTH");
      assert.match(err.message, /not signed in: the app-server's model provider needs an OpenAI account/);
      assert.match(err.message, /codex\.loginApiKey\(key\).*codex\.loginChatgpt\(\).*`codex login`/);
      assert.ok(Date.now() - t0 < 2_000, `${Date.now() - t0} ms`);
    }
    // Nothing was started: the thread has no turn to list yet, and no goal.
    await assert.rejects(thread.read({ includeTurns: true }), /list_turns is not supported yet/);
    assert.equal((await thread.read()).status.type, "idle");
    assert.equal(await thread.getGoal(), null);
    // Signed in (a key the offline model host will never check), work starts: it then cannot reach
    // the model, and stops within the bound.
    await codex.loginApiKey("sk-test-not-a-real-key");
    const turn = await thread.turn("hello");
    const err = await turn.result().catch((e) => e);
    assert.equal(err.code, "ERR_MODEL_UNREACHABLE", String(err));
  } finally {
    await codex.close();
    home.cleanup();
  }
});

test("a model the app-server cannot reach: the turn and the goal stop after modelUnreachableTimeoutMs with the server's last word; nothing goes on", T, async () => {
  const home = await unreachableHome();
  const codex = await Codex.start({ env: home.env, modelUnreachableTimeoutMs: 2_000 });
  try {
    const thread = await codex.startThread();
    const t0 = Date.now();
    const turn = await thread.turn("hello");
    const seen = [];
    const stream = (async () => {
      for await (const n of turn) seen.push(n);
    })().catch((e) => e);
    const err = await turn.result().catch((e) => e);
    const ms = Date.now() - t0;
    assert.equal(err.code, "ERR_MODEL_UNREACHABLE", String(err));
    assert.match(err.message, /the app-server could not reach the model for 2 s \(its last word: Reconnecting\.\.\. .+\); the turn was interrupted/);
    assert.ok(ms >= 2_000 && ms < 12_000, `${ms} ms`);
    assert.ok(seen.some((n) => n.method === "error" && n.params.willRetry), "the retries reach the stream as they happen");
    assert.equal((await stream).code, "ERR_MODEL_UNREACHABLE");
    assert.notEqual((await thread.read()).status.type, "active", "the turn was stopped before the promise settled");

    const goal = await thread.goal("do it");
    const gerr = await goal.result().catch((e) => e);
    assert.equal(gerr.code, "ERR_MODEL_UNREACHABLE");
    assert.match(gerr.message, /the goal paused \(resume it with resumeGoal\(\)\)/);
    assert.equal((await thread.getGoal()).status, "paused");
    assert.notEqual((await thread.read()).status.type, "active");
    await assert.rejects(Codex.start({ env: home.env, modelUnreachableTimeoutMs: 0 }), { code: "ERR_INVALID_ARGUMENT" });
  } finally {
    await codex.close();
    home.cleanup();
  }
});

test("codex-goal: no account is ERR_AUTH in seconds with the way to sign in; an unreachable model shows each retry and stops at --model-timeout", T, async () => {
  const fresh = freshHome();
  try {
    const r = await runBin(["hello"], fresh.env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^codex-goal: ERR_AUTH: goal: not signed in: .*`codex login`/m);
    assert.ok(r.ms < 10_000, `${r.ms} ms`);
  } finally {
    fresh.cleanup();
  }
  const home = await unreachableHome();
  try {
    const r = await runBin(["--model-timeout", "2", "hello"], home.env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^model: Reconnecting\.\.\. .* · retrying$/m);
    assert.match(r.stderr, /^codex-goal: ERR_MODEL_UNREACHABLE: the app-server could not reach the model for 2 s/m);
  } finally {
    home.cleanup();
  }
});

/** A listener that takes the WebSocket upgrade, then ends the connection as `how` says. */
async function closingServer(how) {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", (request) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(request.toString())[1];
      const accept = crypto.createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      if (how === "fin") socket.end();
      else if (how === "reset") socket.resetAndDestroy();
      else {
        const reason = Buffer.from("policy says no");
        socket.end(Buffer.concat([Buffer.from([0x88, reason.length + 2, 1008 >> 8, 1008 & 0xff]), reason]));
      }
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `ws://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

test("Codex.connect: a server that closes right after the upgrade is ERR_CONNECT at once, with its reason", T, async () => {
  for (const [how, reason] of [["close", /close code 1008, policy says no/], ["fin", /the server closed the connection|Connection reset/], ["reset", /reset|closed/i]]) {
    const server = await closingServer(how);
    try {
      const t0 = Date.now();
      const err = await Codex.connect({ url: server.url }).catch((e) => e);
      assert.equal(err.code, "ERR_CONNECT", `${how}: ${err}`);
      assert.match(err.message, new RegExp(`${server.url.replace(/\./g, "\\.")} took the WebSocket upgrade, then`));
      assert.match(err.message, reason, how);
      assert.ok(Date.now() - t0 < 3_000, `${how}: ${Date.now() - t0} ms (connectTimeoutMs is 10 000)`);
    } finally {
      await server.close();
    }
  }
});

test("credentials and tokens in a URL appear in no error and no output; an IPv4-mapped loopback is loopback", T, async () => {
  for (const url of ["ws://me:s3cret@127.0.0.1:9", "ws://127.0.0.1:9/?token=s3cret", "wss://me:s3cret@192.0.2.1:9/x?token=s3cret"]) {
    const err = await Codex.connect({ url, connectTimeoutMs: 1_000 }).catch((e) => e);
    assert.ok(err.code, String(err));
    assert.ok(!`${err.message}\n${err.stack}`.includes("s3cret"), `${url}: ${err.message}`);
  }
  const r = await runBin(["--connect", "ws://me:s3cret@127.0.0.1:9/?token=s3cret", "hello"], {});
  assert.equal(r.code, 2, r.stderr);
  assert.ok(!(r.stdout + r.stderr).includes("s3cret"), r.stderr);
  const mapped = await Codex.connect({ url: "ws://[::ffff:127.0.0.1]:9", connectTimeoutMs: 1_000 }).catch((e) => e);
  assert.notEqual(mapped.code, "ERR_INVALID_ARGUMENT", `not refused as off-loopback: ${mapped.message}`);
});

test("a token refused when the client re-dials ends it with TransportClosedError, saying so", T, async () => {
  const a = await startServer("ws", []);
  const b = await startServer("ws", []);
  const relay = await startRelay(a.url);
  const codex = await Codex.connect({ url: relay.url, token: a.token });
  try {
    const notifications = codex.notifications();
    const next = notifications.next();
    relay.retarget(b.url); // a server that does not take this token
    relay.cut();
    const err = await next.catch((e) => e);
    assert.ok(err instanceof TransportClosedError, String(err));
    assert.match(err.message, /dropped, and on re-dialling refused the connection: 401 Unauthorized \(a missing or wrong token\): the connection cannot come back with this token/);
    assert.ok(!err.message.includes(a.token));
  } finally {
    await codex.close();
    await relay.close();
    await a.stop();
    await b.stop();
  }
});

test("a turn's stream has one reader: a second loop, or one after a break, throws ERR_STREAM_CONSUMED", T, () =>
  withCodex([reply("one two three four five six seven eight")], async ({ codex }) => {
    const turn = await (await codex.startThread()).turn("hi");
    const first = collect(turn);
    assert.throws(() => turn[Symbol.asyncIterator](), (e) => e.code === "ERR_STREAM_CONSUMED" && /has one reader/.test(e.message));
    const events = await first;
    assert.equal(events.at(-1).method, "turn/completed", "the first reader got the whole stream");
    const other = await (await codex.startThread()).turn("again");
    for await (const _ of other) break;
    await assert.rejects(async () => {
      for await (const _ of other);
    }, { code: "ERR_STREAM_CONSUMED" });
    assert.equal((await other.result()).status, "completed");
  }));
