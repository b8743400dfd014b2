#!/usr/bin/env node
// npm run lint: rustfmt, clippy (-D warnings) for this machine and for Windows, and tsc --noEmit.
// The Windows pass type-checks every cfg(windows) path (the job object, paths, signals) on any host:
// it needs the rustup target (added when missing) and, for napi-build's windows-gnu check, a
// libnode.dll to exist, which a check never links against: an empty placeholder will do.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WINDOWS = "x86_64-pc-windows-gnu";
const run = (cmd, args, env = {}) => {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  execFileSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
};

run("cargo", ["fmt", "--all", "--check"]);
run("cargo", ["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"]);
const installed = execFileSync("rustup", ["target", "list", "--installed"], { encoding: "utf8" }).split("\n");
if (!installed.includes(WINDOWS)) run("rustup", ["target", "add", WINDOWS]);
const placeholder = fs.mkdtempSync(path.join(os.tmpdir(), "codex-sdk-libnode-"));
fs.writeFileSync(path.join(placeholder, "libnode.dll"), "");
try {
  run("cargo", ["clippy", "--workspace", "--all-targets", "--all-features", "--target", WINDOWS, "--", "-D", "warnings"], { LIBNODE_PATH: placeholder });
} finally {
  fs.rmSync(placeholder, { recursive: true, force: true });
}
run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json", "--noEmit"]);
