// The package as users load it: ESM and CommonJS entries, binary resolution, and logins.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as esm from "codex-app-server-sdk";
import { Codex, CodexError, CodexRpcError, TimeoutError, resolveCodexPath } from "../index.mjs";
import { withCodex } from "./support/harness.mjs";

const require = createRequire(import.meta.url);
const fake = (name) => fileURLToPath(new URL(`./fakes/${name}`, import.meta.url));
const T = { timeout: 60_000 };

test("require() and import give the same classes", () => {
  const cjs = require("codex-app-server-sdk");
  for (const name of ["Codex", "Thread", "TurnHandle", "GoalHandle", "CodexError", "CodexRpcError", "TransportClosedError", "TimeoutError", "TurnFailedError"]) {
    assert.equal(typeof cjs[name], "function", `${name} is exported`);
    assert.equal(cjs[name], esm[name], `${name} is the same class in ESM and CJS`);
  }
  assert.ok(new esm.CodexRpcError("m", { rpcCode: 1, method: "x" }) instanceof cjs.CodexError);
});

test("the binary resolves to the installed platform package, not the JS shim", () => {
  const saved = process.env.CODEX_PATH;
  delete process.env.CODEX_PATH;
  try {
    const path = resolveCodexPath();
    assert.match(path, /@openai[\\/]codex-[a-z0-9-]+[\\/]vendor[\\/][^\\/]+[\\/]bin[\\/]codex(\.exe)?$/);
    assert.equal(resolveCodexPath("/explicit/codex"), "/explicit/codex");
  } finally {
    if (saved !== undefined) process.env.CODEX_PATH = saved;
  }
});

test("CODEX_PATH is honoured, and codexPath wins over it", T, async () => {
  const saved = process.env.CODEX_PATH;
  process.env.CODEX_PATH = fake("scripted-server.mjs");
  try {
    const viaEnv = await Codex.start();
    assert.match(viaEnv.metadata.userAgent, /^fake\//);
    await viaEnv.close();
    const err = await Codex.start({ codexPath: "/nonexistent/codex" }).catch((e) => e);
    assert.equal(err.code, "ERR_SPAWN");
  } finally {
    if (saved === undefined) delete process.env.CODEX_PATH;
    else process.env.CODEX_PATH = saved;
  }
});

test("loginChatgpt() hands out the auth URL; wait() is bounded and cancel() settles it", T, () =>
  withCodex([], async ({ codex }) => {
    const login = await codex.loginChatgpt();
    assert.equal(typeof login.loginId, "string");
    assert.match(login.authUrl, /^https:\/\/auth\.openai\.com\//);
    await assert.rejects(login.wait({ timeoutMs: 50 }), TimeoutError);
    const waiting = login.wait();
    await login.cancel();
    await assert.rejects(waiting, (e) => e instanceof CodexError && e.code === "ERR_LOGIN_CANCELLED");
    await login.cancel(); // idempotent
  }));

test("loginChatgptDeviceCode() needs the network: offline it rejects with the server's reason", T, () =>
  withCodex([], async ({ codex }) => {
    const err = await codex.loginChatgptDeviceCode().catch((e) => e);
    assert.ok(err instanceof CodexRpcError, String(err));
    assert.equal(err.method, "account/login/start");
    assert.match(err.message, /device code/);
  }));
