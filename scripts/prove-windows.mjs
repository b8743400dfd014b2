#!/usr/bin/env node
// The Windows proof's steps, run by scripts/prove-windows.sh (which prepares Wine, Node for Windows,
// the Windows codex binary and the GNU-built addon). Each step prints what it saw; any failure exits 1.
//
// What it proves for the published MSVC packages: the SDK's cfg(windows) Rust (the job object, paths,
// process handling) compiles, loads into Node for Windows through the package's own loader, and works:
// a turn and a goal through the native core, Ctrl-C of codex-goal, and close() leaving no process of
// the tree. What it cannot: the MSVC toolchain and runtime themselves (built and tested on Windows
// runners by the release workflow), Windows on arm64, and the real codex app-server under Wine 8,
// which exits at start (its own error is printed below) because Wine 8 does not implement file locks
// with I/O completion (LockFileEx on an overlapped handle), which codex's sqlite state needs. The turn
// and goal then run on tests/fakes/replay-server.mjs, which replays what the real server sent.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeCodexHome } from "../tests/support/codex-home.mjs";
import { goalStatus, reply, startMockModel } from "../tests/support/mock-model.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const proof = path.join(root, "target/windows-proof");
const { WINDOWS_NODE, WINDOWS_CODEX, WINDOWS_ADDON } = process.env;
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const wine = { ...process.env, WINEPREFIX: path.join(proof, "prefix"), WINEDEBUG: "-all" };
/** A path as a Windows process under Wine sees it (drive Z: is the Linux root). */
const win = (p) => `Z:${p.replace(/\//g, "\\")}`;
let failed = 0;
const check = (ok, what, detail = "") => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? `: ${detail}` : ""}`);
  if (!ok) failed += 1;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a Windows program under Wine; its stdout and stderr go to files (Wine cannot give a Windows
 * process a Linux pipe as its console). */
function underWine(args, { env = {}, cwd = root, timeout = 120_000 } = {}) {
  const out = path.join(proof, `out-${process.hrtime.bigint()}`);
  const child = spawn("wine", args, { cwd, env: { ...wine, ...env }, stdio: ["ignore", fs.openSync(`${out}.1`, "w"), fs.openSync(`${out}.2`, "w")] });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
  const done = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const read = (n) => (fs.existsSync(`${out}.${n}`) ? fs.readFileSync(`${out}.${n}`, "utf8") : "");
      resolve({ code, signal, stdout: read(1), stderr: read(2) });
    }),
  );
  return Object.assign(done, { child });
}

/** Linux processes (Wine runs each Windows process as one) whose command line has `text`, zombies aside. */
function processesWith(text) {
  const found = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))) continue;
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(text)) found.push(`${pid}: ${cmd.trim()}`);
    } catch {}
  }
  return found;
}

// 1. The app: the packed root package installed as a Windows user's npm would (the Windows codex
//    package among its dependencies), and the GNU-built addon as the win32-x64-msvc platform package.
const app = path.join(proof, "app");
fs.rmSync(app, { recursive: true, force: true });
fs.mkdirSync(app, { recursive: true });
fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "windows-proof", private: true, type: "module" }));
const tarball = path.join(root, "artifacts", `${pkg.name}-${pkg.version}.tgz`);
const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--os=win32", "--cpu=x64", tarball], { cwd: app, encoding: "utf8" });
check(install.status === 0, "the packed package installs for win32-x64", install.status === 0 ? "" : install.stderr);
const platformDir = path.join(app, "node_modules", `${pkg.name}-win32-x64-msvc`);
fs.mkdirSync(platformDir, { recursive: true });
fs.copyFileSync(WINDOWS_ADDON, path.join(platformDir, "codex-sdk.win32-x64-msvc.node"));
fs.writeFileSync(path.join(platformDir, "package.json"), JSON.stringify({ name: `${pkg.name}-win32-x64-msvc`, version: pkg.version, main: "codex-sdk.win32-x64-msvc.node" }));
fs.copyFileSync(path.join(root, "scripts/windows/smoke.mjs"), path.join(app, "smoke.mjs"));

// 2. The Windows codex binary under Wine: it starts; does its app-server?
const version = await underWine([WINDOWS_CODEX, "--version"]);
check(version.code === 0 && version.stdout.includes(`codex-cli ${pkg.dependencies["@openai/codex"]}`), "codex.exe runs under Wine", version.stdout.trim() || version.stderr.trim());
const winTemp = path.join(wine.WINEPREFIX, "drive_c/users", process.env.USER ?? "root", "Temp");
const probeHome = path.join(winTemp, "codex-proof-home");
fs.mkdirSync(probeHome, { recursive: true });
fs.writeFileSync(path.join(probeHome, "config.toml"), "");
const probe = underWine([WINDOWS_CODEX, "app-server"], { env: { CODEX_HOME: win(probeHome), CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG: "1" }, timeout: 20_000 });
const realServer = await probe;
const serverError = realServer.stderr.split("\n").find((l) => l.startsWith("Error:")) ?? realServer.stderr.trim().split("\n")[0];
console.log(`     codex.exe app-server under Wine exited ${realServer.code}: ${serverError || "(no error)"}`);
const realRuns = realServer.code === 0 || (realServer.signal === "SIGKILL" && !serverError);

// 3. A turn and a goal through the native core, then close().
const model = await startMockModel([reply("hello from windows"), reply("Step one done."), goalStatus("complete"), reply("All done.")]);
const home = makeCodexHome(model.url);
const fake = path.join(proof, "replay-codex.cmd");
fs.writeFileSync(fake, `@"${win(WINDOWS_NODE)}" "${win(path.join(root, "tests/fakes/replay-server.mjs"))}" %*\r\n`);
const log = path.join(proof, "smoke.json");
fs.rmSync(log, { force: true });
const smoke = await underWine([WINDOWS_NODE, "smoke.mjs"], {
  cwd: app,
  env: {
    PROOF_LOG: win(log),
    PROOF_ENV: JSON.stringify({ CODEX_HOME: win(home.dir), CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG: "1", RUST_LOG: "warn" }),
    ...(realRuns ? {} : { PROOF_CODEX_PATH: win(fake) }),
  },
});
const report = fs.existsSync(log) ? JSON.parse(fs.readFileSync(log, "utf8")) : { error: { message: `no report (exit ${smoke.code}): ${smoke.stderr}` } };
await model.close();
home.cleanup();
const on = realRuns ? "the real codex.exe app-server" : "the replay app-server (the real one cannot run under Wine 8)";
check(report.loaded === true && report.platform === "win32-x64", "Node for Windows loads the GNU-built addon through the package's loader", report.error?.message ?? report.platform);
check(report.turn?.status === "completed" && report.turn.finalResponse === (realRuns ? "hello from windows" : "Plain answer."), `a turn on ${on}`, JSON.stringify(report.turn ?? report.error));
check(report.goal?.status === "completed" && report.goal.goal === "complete" && report.goal.turns === 2 && report.goal.finalResponse === "All done.", "a goal across a continuation, one logical turn", JSON.stringify(report.goal ?? report.error));
check(report.aliveAfterClose?.server === false && report.aliveAfterClose.grandchild !== true, "close() leaves no process of the tree (the job object)", `${JSON.stringify(report.aliveAfterClose)} in ${report.closeMs} ms`);

// 4. codex-goal under Wine: Ctrl-C (SIGINT, which Wine turns into a console Ctrl-C) pauses the goal,
//    interrupts its turn, prints the summary and exits 130; nothing of the tree is left.
const holding = path.join(proof, "holding");
fs.rmSync(holding, { force: true });
const cli = underWine([WINDOWS_NODE, path.join("node_modules", pkg.name, "cli", "codex-goal.mjs"), "make it pass"], {
  cwd: app,
  env: { CODEX_PATH: win(fake), REPLAY_HOLD: win(holding), CODEX_HOME: win(proof) },
  timeout: 60_000,
});
for (let i = 0; i < 300 && !fs.existsSync(holding); i++) await sleep(100);
check(fs.existsSync(holding), "codex-goal started the goal under Wine");
cli.child.kill("SIGINT");
const ended = await cli;
check(ended.code === 130 && /interrupted \(goal paused\)/.test(ended.stdout), "Ctrl-C pauses the goal, prints the summary and exits 130", `exit ${ended.code}: ${ended.stdout.trim().split("\n").at(-2) ?? ""} ${ended.stderr.trim()}`);
await sleep(2_000);
const left = processesWith("replay-server.mjs");
check(left.length === 0, "nothing of the app-server's tree outlives codex-goal", left.join("; "));

console.log(failed ? `\n${failed} Windows check(s) failed` : "\nthe Windows proof passed");
process.exit(failed ? 1 : 0);
