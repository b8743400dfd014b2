// Checks that need no app-server run: the generated protocol bindings match the pinned binary,
// and the typed usage file compiles under `tsc --strict` against the published declarations.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

test("committed protocol bindings equal what the pinned codex binary generates", { timeout: 120_000 }, async () => {
  const { stdout } = await run(process.execPath, [path.join(root, "scripts/generate-protocol.mjs"), "--check"], { cwd: root });
  assert.match(stdout, /up to date/);
});

for (const [label, project] of [
  ["a typed usage file, and narrowing of every ThreadItem variant and notification method, compile with tsc --strict", "tests/types/tsconfig.json"],
  ["the package's .d.ts stands alone: a consumer with no DOM, Node or ESNext lib of its own compiles", "tests/types/standalone/tsconfig.json"],
  ["the wasm build's .d.ts needs no Node types: a browser consumer compiles", "tests/types/browser/tsconfig.json"],
]) {
  test(label, { timeout: 120_000 }, async () => {
    const tsc = path.join(root, "node_modules/typescript/bin/tsc");
    const r = await run(process.execPath, [tsc, "-p", path.join(root, project)], { cwd: root }).catch((e) => e);
    assert.equal(r.code ?? 0, 0, `${r.stdout ?? ""}${r.stderr ?? ""}`);
  });
}

test("the napi binding's declarations are the ones the pinned @napi-rs/cli generates", { timeout: 300_000 }, async () => {
  const { stdout } = await run("git", ["status", "--porcelain", "binding/index.d.ts"], { cwd: root });
  assert.equal(stdout.trim(), "", "binding/index.d.ts differs from the committed one: commit the regenerated file");
});

test("the committed package-lock.json is in step with package.json: npm ci takes it", { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "codex-sdk-lock-"));
  try {
    for (const f of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(root, f), path.join(dir, f));
    await run("npm", ["ci", "--ignore-scripts", "--dry-run", "--no-audit", "--no-fund"], { cwd: dir });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
