// `npm run demo` as the README promises: offline on the scripted model with real output, and with
// --live, a missing login or an unreachable model reported within seconds instead of a silent hang;
// with --connect, the same run on an app-server that was already listening.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { goalStatus, reply } from "./support/mock-model.mjs";
import { startServer } from "./support/server.mjs";

const demo = path.join(path.dirname(fileURLToPath(import.meta.url)), "../examples/demo.mjs");
const T = { timeout: 90_000 };

function runDemo(args, env = {}) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [demo, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error?.code ?? 0, stdout, stderr, ms: Date.now() - t0 }),
    );
  });
}

function home(config) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "codex-sdk-demo-"));
  if (config) fs.writeFileSync(path.join(dir, "config.toml"), config);
  return dir;
}

test("npm run demo runs a goal across continuations offline, with real output and no escapes when piped", T, async () => {
  const r = await runDemo([]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^codex app-server 0\.169\.0 \(pid \d+\), scripted model on http:\/\/127\.0\.0\.1:\d+\/v1$/m);
  assert.match(r.stdout, /goal  Write a haiku about Rust/);
  assert.match(r.stdout, /status +completed/);
  assert.match(r.stdout, /goal +complete/);
  assert.match(r.stdout, /physical turns [2-9]/);
  assert.match(r.stdout, /final response Done: "Borrowed, never lost/);
  assert.doesNotMatch(r.stdout, /\x1b\[/);
});

test("npm run demo -- --live without a login says so at once", T, async () => {
  const dir = home();
  try {
    const r = await runDemo(["--live"], { CODEX_HOME: dir, CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG: "1" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Not logged in to Codex .*run `codex login`/);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("npm run demo -- --live with an unreachable model gives up within seconds, saying why", T, async () => {
  const dir = home('model = "m"\nmodel_provider = "local"\n[model_providers.local]\nname = "local"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\n');
  try {
    const r = await runDemo(["--live", "--turn"], { CODEX_HOME: dir, CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG: "1" });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /Could not reach the model: /);
    assert.match(r.stdout, /model: Reconnecting/);
    assert.ok(r.ms < 30_000, `took ${r.ms} ms`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("npm run demo -- --connect runs the goal on an app-server already listening, and a wrong token is ERR_AUTH without the token", T, async () => {
  const server = await startServer("ws", [
    reply("Draft haiku, first pass."),
    reply("Checking the syllables."),
    goalStatus("complete"),
    reply("Done: the haiku scans."),
  ]);
  try {
    const r = await runDemo(["--connect", server.url, "--token-file", server.tokenFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^codex app-server 0\\.169\\.0 \\(connected to ${server.url.replace(/\./g, "\\.")}\\)$`, "m"));
    assert.match(r.stdout, /status +completed/);
    assert.match(r.stdout, /physical turns [2-9]/);
    assert.match(r.stdout, /final response Done: the haiku scans\./);
    assert.ok(server.alive(), "the demo's close() must leave the server running");

    const wrong = path.join(server.home.dir, "wrong-token");
    fs.writeFileSync(wrong, "not-the-token-xyz");
    const bad = await runDemo(["--connect", server.url, "--token-file", wrong]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ERR_AUTH: /m);
    assert.doesNotMatch(bad.stdout + bad.stderr, /not-the-token-xyz/);
    assert.ok(bad.ms < 10_000, `took ${bad.ms} ms`);

    const usage = await runDemo(["--connect"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: npm run demo -- /);
  } finally {
    await server.stop();
  }
});
