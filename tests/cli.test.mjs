// codex-goal, run as users run it: the package's bin, linked into an app's node_modules/.bin from the
// package.json "bin" field, started with npx as a child process against the real app-server and the
// scripted model. Every exit code, each output form, steering through stdin, SIGINT, and the live
// terminal screen under a pseudo-terminal (`script`), read back through a headless xterm.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import xterm from "@xterm/headless";
import { Progress } from "../cli/report.mjs";
import { Codex } from "../index.mjs";
import { makeCodexHome } from "./support/codex-home.mjs";
import { delay, failure, functionCall, gate, goalStatus, reply, startMockModel } from "./support/mock-model.mjs";
import { startServer } from "./support/server.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const T = { timeout: 90_000 };
const held = (events, g) => [...events.slice(0, 2), g.event, ...events.slice(2)];
const tokens = (total) => ({ usage: { input_tokens: total - 5, output_tokens: 5, total_tokens: total } });
const ESC = /\x1b/;
const SGR = /\x1b\[[0-9;]*m/;

// An app with the package in node_modules and its bin linked where npm links it.
let app;
before(() => {
  app = fs.mkdtempSync(path.join(os.tmpdir(), "codex-goal-app-"));
  fs.mkdirSync(path.join(app, "node_modules", ".bin"), { recursive: true });
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
  fs.symlinkSync(root, path.join(app, "node_modules", pkg.name));
  for (const [name, file] of Object.entries(pkg.bin)) fs.symlinkSync(path.join("..", pkg.name, file), path.join(app, "node_modules", ".bin", name));
});
after(() => fs.rmSync(app, { recursive: true, force: true }));

/** `npx codex-goal ...args` in the app; `direct`: `node_modules/.bin/codex-goal ...args`, as a shell
 * runs it from PATH, so that its own exit status is seen (npx reports a SIGINT as its own death).
 * `stdin`: text to write (then closed), or "open" to keep it. */
function run(args, { env = {}, stdin = "", onStdout, direct = false } = {}) {
  // Its own process group, so that `interrupt()` does what Ctrl-C on a terminal does.
  const [file, argv] = direct ? [path.join(app, "node_modules", ".bin", "codex-goal"), args] : ["npx", ["--no", "--", "codex-goal", ...args]];
  const child = spawn(file, argv, { cwd: app, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
    onStdout?.(stdout, child);
  });
  child.stderr.on("data", (d) => (stderr += d));
  if (stdin !== "open") child.stdin.end(stdin);
  const t0 = Date.now();
  const done = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 })));
  return Object.assign(done, { child, interrupt: () => process.kill(-child.pid, "SIGINT") });
}

/** Resolves once stdout matches. */
const waitFor = (pattern) => {
  let hit;
  const seen = new Promise((resolve) => (hit = resolve));
  return { seen, onStdout: (out) => pattern.test(out) && hit() };
};

async function withModel(script, fn, modelOptions) {
  const model = await startMockModel(script, modelOptions);
  const home = makeCodexHome(model.url);
  try {
    return await fn({ model, home, env: home.env });
  } finally {
    await model.close();
    home.cleanup();
  }
}

/** App-servers still running with this CODEX_HOME (Linux: read from /proc). */
function serversOf(home) {
  const found = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`CODEX_HOME=${home.dir}`)) found.push(Number(pid));
    } catch {}
  }
  return found;
}

/** What still runs with this CODEX_HOME once it has had 2 s to go (a process killed with its group
 * takes a moment to be gone, longer on a loaded machine), each with its command line. */
async function leftBehind(home) {
  for (let i = 0; i < 100 && serversOf(home).length; i++) await new Promise((res) => setTimeout(res, 20));
  return serversOf(home).map((pid) => {
    try {
      return `${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")}`;
    } catch {
      return `${pid}`;
    }
  });
}

async function goalOf(home, threadId) {
  const codex = await Codex.start({ env: home.env });
  try {
    return await (await codex.resumeThread(threadId)).getGoal();
  } finally {
    await codex.close();
  }
}

const threadIdIn = (out) => out.match(/^thread ([0-9a-f-]{36})/m)?.[1];

test("--help, --version and usage errors: exit 0, 0 and 2, the reason and the usage on stderr", T, async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: codex-goal \[options\] <objective…>/);
  for (const flag of ["--budget", "--thread", "--attach", "--resume", "--cwd", "--model", "--config", "--approve", "--json", "--quiet", "--connect", "--token-file", "--detach"]) assert.ok(help.stdout.includes(flag), flag);
  const version = await run(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout, `codex-goal ${pkg.version} (${pkg.name})\n`);
  // A codex that leaves a mark when started: a usage error must start nothing.
  const marker = path.join(app, "codex-started");
  const codex = path.join(app, "marking-codex");
  fs.writeFileSync(codex, `#!/bin/sh\ntouch ${marker}\nexit 1\n`, { mode: 0o755 });
  for (const [args, reason] of [
    [[], /an objective is required/],
    [["--budget", "lots", "x"], /--budget takes a whole number of tokens above 0, not "lots"/],
    [["--budget", "0", "x"], /--budget takes a whole number/],
    [["--approve", "some", "x"], /--approve takes never or all/],
    [["--json", "--quiet", "x"], /--json and --quiet cannot be used together/],
    [["--token-file", "/t", "x"], /--token-file goes with --connect/],
    [["--thread", "01a24a97-0000-7000-8000-000000000000", "--model", "m", "x"], /--cwd and --model apply to a new thread/],
    [["-c", "novalue", "x"], /-c takes key=value/],
    [["--attach", "01a24a97-0000-7000-8000-000000000000", "an", "objective"], /--attach follows the thread's own goal: no objective goes with it/],
    [["--attach", "01a24a97-0000-7000-8000-000000000000", "--resume", "01a24a97-0000-7000-8000-000000000000"], /--attach and --resume cannot be used together/],
    [["--attach", "01a24a97-0000-7000-8000-000000000000", "--budget", "5"], /--budget goes with a new goal or --resume, not --attach/],
    [["--resume", "01a24a97-0000-7000-8000-000000000000", "--thread", "01a24a97-0000-7000-8000-000000000000"], /--resume names the thread: --thread does not go with it/],
    [["--detach", "x"], /--detach goes with --connect/],
    [["--budget"], /^codex-goal: --budget needs a value$/m],
    [["--bogus", "x"], /^codex-goal: unknown option --bogus$/m],
    [["--bugdet", "5", "x"], /unknown option --bugdet \(did you mean --budget\?\)/],
    [["--budget", "-5", "x"], /--budget needs a value, and the next word looks like an option \(write --budget=<value> if it is the value\)/],
    [["--budget=-5", "x"], /--budget takes a whole number of tokens above 0, not "-5"/],
    [["--json=1", "x"], /--json takes no value/],
    [["--thread", "nope", "x"], /--thread takes a thread id \(a UUID, as the summary of a run prints it\), not "nope"/],
    [["--attach", "nope"], /--attach takes a thread id/],
    [["x".repeat(4001)], /the objective is 4001 characters; the app-server takes at most 4000/],
    [["--cwd", "/nonexistent/dir", "x"], /--cwd "\/nonexistent\/dir" does not exist/],
    [["--cwd", "/etc/hostname", "x"], /--cwd "\/etc\/hostname" is not a directory/],
  ]) {
    const r = await run(args, { env: { CODEX_PATH: codex } });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, reason);
    assert.deepEqual(r.stderr.trimEnd().split("\n").slice(1), ["(codex-goal --help shows how it is used)"], "one line naming the mistake, and a hint");
    assert.ok(!fs.existsSync(marker), `${args.join(" ")}: a usage error starts nothing`);
    assert.equal(r.stdout, "");
  }
});

test("a complete goal exits 0; off a terminal the output is plain lines, the agent's text, progress and a summary", T, () =>
  withModel([reply("Step one done.", tokens(100)), goalStatus("complete", tokens(200)), reply("All done.", tokens(300))], async ({ env }) => {
    const r = await run(["--budget", "100000", "write", "a", "haiku"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, ESC, "no escapes in a pipe");
    assert.match(r.stdout, /^thread [0-9a-f-]{36} · codex app-server 0\.169\.0$/m);
    assert.match(r.stdout, /^Step one done\.$/m);
    assert.match(r.stdout, /^\[goal active · turn 1 · 100 tokens · budget 100\/100,000 · \d+s\]$/m);
    assert.match(r.stdout, /^\[goal complete · turn 2 · /m);
    assert.match(r.stdout, /^All done\.$/m);
    // Two counts, each labelled: the run's tokens (the result's usage) and the goal's count toward its
    // budget (it stops when the goal completes, so the reply after it is not counted).
    assert.match(r.stdout, /^goal complete · 2 turns · 600 tokens · budget [\d,]+\/100,000 · \d+s$/m);
    assert.ok(threadIdIn(r.stdout));
    assert.equal(r.stderr, "");
  }));

test("blocked exits 3, over budget 4, a failed turn 1", T, async () => {
  await withModel([goalStatus("blocked"), reply("Blocked on credentials.")], async ({ env }) => {
    const r = await run(["get", "the", "secrets"], { env });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /^goal blocked · 1 turn · /m);
    assert.match(r.stdout, /to go on: codex-goal --resume [0-9a-f-]{36}$/m);
  });
  await withModel([], async ({ env }) => {
    const r = await run(["--budget", "40", "keep going"], { env });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stdout, /^goal stopped at its token budget · 2 turns · 50 tokens · budget 50\/40 · /m);
  }, { fallback: () => reply("Made some progress.", tokens(25)) });
  await withModel([failure("the model fell over")], async ({ env }) => {
    const r = await run(["fall over"], { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^failed: .*the model fell over/m);
  });
});

test("the live token count follows the thread's running total: a repeated usage update adds nothing", () => {
  const progress = new Progress();
  const usage = (last, total) => ({ method: "thread/tokenUsage/updated", params: { tokenUsage: { last: { totalTokens: last }, total: { totalTokens: total } } } });
  // A thread that had used 1 000 tokens before this run; the second update arrives twice (a
  // resumed connection repeats it), then one update is missed and the next carries the total.
  for (const n of [usage(100, 1_100), usage(50, 1_150), usage(50, 1_150), usage(40, 1_230)]) progress.take(n);
  assert.equal(progress.tokens, 230);
  const legacy = new Progress();
  for (const n of [usage(100, undefined), usage(50, undefined)]) legacy.take({ ...n, params: { tokenUsage: { last: n.params.tokenUsage.last } } });
  assert.equal(legacy.tokens, 150, "without a total, updates are summed");
});

test("--json: every notification of the one logical turn as a JSON line, then the result", T, () =>
  withModel([reply("Step one done."), goalStatus("complete"), reply("All done.")], async ({ env }) => {
    const r = await run(["--json", "finish it"], { env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    const result = lines.pop();
    assert.equal(result.status, "completed");
    assert.equal(result.goal.status, "complete");
    assert.equal(result.turnIds.length, 2);
    assert.equal(result.finalResponse, "All done.");
    assert.ok(lines.every((n) => typeof n.method === "string" && n.params), "notifications before the result");
    assert.equal(lines[0].method, "turn/started");
    assert.equal(lines.at(-1).method, "turn/completed");
    assert.equal(lines.filter((n) => n.method === "turn/started").length, 1, "one logical turn");
    for (const n of lines) {
      const id = n.params.turnId ?? n.params.turn?.id;
      if (id) assert.equal(id, result.id);
    }
  }));

test("--quiet prints only the final response", T, () =>
  withModel([reply("Step one done."), goalStatus("complete"), reply("All done.")], async ({ env }) => {
    const r = await run(["--quiet", "finish it"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "All done.\n");
  }));

test("a line on stdin steers the running goal, and reaches the model", T, () => {
  const g = gate();
  return withModel([held(reply("Working."), g), goalStatus("complete"), reply("Done, docs too.")], async ({ model, env }) => {
    const steered = waitFor(/» steer: also update the docs/);
    const r = run(["fix", "the", "bug"], { env, stdin: "open", onStdout: steered.onStdout });
    await model.waitForRequests(1);
    r.child.stdin.write("also update the docs\n");
    await steered.seen;
    g.release();
    const done = await r;
    assert.equal(done.code, 0, done.stderr);
    assert.ok(model.requests.slice(1).some((q) => JSON.stringify(q.input).includes("also update the docs")), "a later model request carries the steer");
  }, { fallback: () => reply("More.") });
});

test("SIGINT pauses the goal, interrupts its turn, prints the summary and exits 130; the app-server is gone", T, () => {
  const g = gate();
  return withModel([held(reply("Working."), g)], async ({ model, home, env }) => {
    const r = run(["work", "forever"], { env, stdin: "open", direct: true });
    await model.waitForRequests(1);
    r.interrupt();
    const done = await r;
    g.release();
    assert.equal(done.code, 130, done.stdout + done.stderr);
    assert.match(done.stdout, /interrupting: pausing the goal/);
    assert.match(done.stdout, /^interrupted \(goal paused\) · 1 turn · /m);
    assert.deepEqual(await leftBehind(home), [], "no app-server outlives the command");
    const goal = await goalOf(home, threadIdIn(done.stdout));
    assert.equal(goal.status, "paused");
  });
});

test("a second SIGINT quits at once, taking the app-server along", T, () => {
  const g = gate();
  return withModel([held(reply("Working."), g)], async ({ model, home, env }) => {
    const interrupting = waitFor(/interrupting/);
    const r = run(["work", "forever"], { env, stdin: "open", onStdout: interrupting.onStdout, direct: true });
    await model.waitForRequests(1);
    r.interrupt();
    await interrupting.seen;
    const t0 = Date.now();
    r.interrupt();
    const done = await r;
    g.release();
    assert.equal(done.code, 130);
    assert.ok(Date.now() - t0 < 1_000, `quit ${Date.now() - t0} ms after the second SIGINT`);
    assert.deepEqual(await leftBehind(home), [], "no app-server outlives the command");
  });
});

test("SIGTERM quits at once with 143, taking the app-server along", T, () => {
  const g = gate();
  return withModel([held(reply("Working."), g)], async ({ model, home, env }) => {
    const r = run(["work", "forever"], { env, stdin: "open", direct: true });
    await model.waitForRequests(1);
    const t0 = Date.now();
    process.kill(-r.child.pid, "SIGTERM");
    const done = await r;
    g.release();
    assert.equal(done.code, 143, done.stdout + done.stderr);
    assert.ok(Date.now() - t0 < 1_000, `quit ${Date.now() - t0} ms after SIGTERM`);
    assert.deepEqual(await leftBehind(home), [], "no app-server outlives the command");
  });
});

test("--thread runs on an existing thread; -c reaches the app-server; --approve all accepts what never declines", T, () => {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), "codex-goal-approve-"));
  const touch = (name) => functionCall("exec_command", { cmd: `touch ${path.join(target, name)}`, sandbox_permissions: "require_escalated", justification: "test" });
  const script = [reply([touch("declined")]), goalStatus("complete"), reply("First done."), reply([touch("accepted")]), goalStatus("complete"), reply("Second done.")];
  return withModel(script, async ({ model, env }) => {
    const onRequest = ["-c", "approval_policy=on-request"];
    const first = await run([...onRequest, "first"], { env });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.ok(!fs.existsSync(path.join(target, "declined")), "--approve never (the default) declined the command");
    assert.match(JSON.stringify(model.requests[1].input), /rejected by user/);
    const thread = threadIdIn(first.stdout);
    const second = await run([...onRequest, "--approve", "all", "--thread", thread, "second"], { env });
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal(threadIdIn(second.stdout), thread, "the same thread");
    assert.ok(fs.existsSync(path.join(target, "accepted")), "--approve all accepted the command");
    assert.match(second.stdout, /^\$ .*touch .*accepted'? \(exit 0\)$/m);
  }).finally(() => fs.rmSync(target, { recursive: true, force: true }));
});

test("--connect with --token-file runs the goal on a running app-server, which keeps running", T, async () => {
  const server = await startServer("ws", [reply("Step one done."), goalStatus("complete"), reply("All done.")]);
  try {
    const r = await run(["--connect", server.url, "--token-file", server.tokenFile, "finish it"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^thread [0-9a-f-]{36} · codex app-server 0\\.169\\.0 · ${server.url.replace(/\./g, "\\.")}$`, "m"));
    assert.match(r.stdout, /^goal complete · 2 turns/m);
    assert.ok(server.alive());
    const bad = await run(["--connect", server.url, "finish it"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^codex-goal: ERR_AUTH: /);
  } finally {
    await server.stop();
  }
});

test("--resume goes on with a blocked goal to its end; over budget, the hint asks for more budget", T, () =>
  withModel([goalStatus("blocked"), reply("Blocked on credentials.")], async ({ env, model }) => {
    const first = await run(["get", "the", "secrets"], { env });
    assert.equal(first.code, 3, first.stderr);
    const thread = threadIdIn(first.stdout);
    model.push(goalStatus("complete"), reply("Got them."));
    const r = await run(["--resume", thread], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Got them\.$/m);
    assert.match(r.stdout, /^goal complete · 1 turn · /m);
    const again = await run(["--resume", thread], { env });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /ERR_GOAL_COMPLETE: .*is complete: there is nothing to resume/);
  }));

test("--attach follows a goal another client started to its end; --detach leaves a goal running and prints the --attach command", T, async () => {
  const g = gate();
  const server = await startServer("ws", [], {
    fallback: (body) => {
      const input = body.input ?? [];
      if (input.some((i) => i.type === "function_call" && i.name === "update_goal")) return reply("All done.");
      const steps = input.filter((i) => i.role === "assistant").length;
      return steps === 0 ? held(reply("Step one done."), g) : goalStatus("complete");
    },
  });
  try {
    const connect = ["--connect", server.url, "--token-file", server.tokenFile];
    const started = waitFor(/^thread [0-9a-f-]{36}/m);
    const detaching = run([...connect, "--detach", "finish it"], { onStdout: started.onStdout, direct: true });
    await started.seen;
    await server.model.waitForRequests(1);
    detaching.interrupt();
    const d = await detaching;
    assert.equal(d.code, 130, d.stdout + d.stderr);
    const thread = threadIdIn(d.stdout);
    assert.match(d.stdout, new RegExp(`detached: the goal keeps running on the server · follow it again: codex-goal --connect ${server.url.replace(/\./g, "\\.")} --token-file \\S+ --attach ${thread}$`, "m"));
    const codex = await Codex.connect({ url: server.url, token: server.token });
    try {
      assert.equal((await (await codex.resumeThread(thread)).getGoal()).status, "active", "the goal was left running");
    } finally {
      await codex.close();
    }
    const following = run([...connect, "--json", "--attach", thread]);
    setTimeout(() => g.release(), 300);
    const r = await following;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines[0].method, "turn/started");
    assert.equal(lines.at(-2).method, "turn/completed");
    const result = lines.at(-1);
    assert.equal(result.threadId, thread);
    assert.equal(result.goal.status, "complete");
    assert.equal(result.finalResponse, "All done.");
    assert.equal(result.turnIds.length, 2);
    const none = await run([...connect, "--attach", "01a24a97-0000-7000-8000-000000000000"]);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /^codex-goal: no thread 01a24a97-0000-7000-8000-000000000000 on this app-server \(.+\)$/m);
  } finally {
    g.release();
    await server.stop();
  }
});

async function screenOf(raw, cols, rows) {
  const term = new xterm.Terminal({ cols, rows, scrollback: 1000, allowProposedApi: true });
  await new Promise((resolve) => term.write(raw, resolve));
  const lines = [];
  for (let i = 0; i < term.buffer.active.length; i++) lines.push(term.buffer.active.getLine(i).translateToString(true));
  return lines.join("\n").replace(/\n+$/, "");
}

/** The environment a terminal emulator gives its shell. CI runners set no TERM and often CI=true, and
 * either makes Node report a colourless stream (tty.WriteStream#hasColors), which is right for them
 * but not what a user at a terminal has. */
function terminalEnv() {
  const env = { ...process.env, TERM: "xterm-256color" };
  for (const name of ["CI", "NO_COLOR", "NODE_DISABLE_COLORS", "FORCE_COLOR"]) delete env[name];
  return env;
}

/** The bin on a pseudo-terminal of `cols` columns (`script` from util-linux): `type` types into it,
 * `until` waits for the raw output to match. */
function script(args, { env, cols = 72, rows = 24 }) {
  const command = `stty cols ${cols} rows ${rows}; exec npx --no -- codex-goal ${args.map((a) => `'${a}'`).join(" ")}`;
  const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: app, env: { ...terminalEnv(), ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let raw = "";
  const watchers = [];
  child.stdout.on("data", (d) => {
    raw += d;
    for (const w of watchers) w();
  });
  const done = new Promise((resolve) => child.on("exit", (code) => resolve({ code, raw })));
  return {
    done,
    type: (text) => child.stdin.write(text),
    until: (pattern) =>
      new Promise((resolve) => {
        const check = () => pattern.test(raw) && resolve();
        watchers.push(check);
        check();
      }),
  };
}

test("on a terminal: the text streams, a status line redraws in place, typing steers, and the final screen reads cleanly", T, () => {
  const g = gate();
  // The second turn is held while the user types; a steer may make the server drop that response and
  // ask again, so what follows comes from the fallback: complete the goal, then a final answer.
  const fallback = (body) => ((body.input ?? []).some((i) => i.type === "function_call" && i.name === "update_goal") ? reply("All done.") : goalStatus("complete"));
  return withModel([reply("Step one done.\nA second line."), held(reply("Thinking."), g)], async ({ model, env }) => {
    const term = script(["--budget", "100000", "write a haiku"], { env, cols: 80 });
    await model.waitForRequests(2);
    await term.until(/goal active · turn 2 · \d+ tokens · budget \d+\/100,000 · \d+s · type to steer/);
    term.type("mind the syllables\r");
    await term.until(/» steer: mind the syllables/);
    g.release();
    const { code, raw } = await term.done;
    assert.equal(code, 0, raw);
    assert.match(raw, /\r\x1b\[2K/, "the status line is redrawn in place");
    assert.match(raw, SGR, "colour on a terminal");
    assert.ok(model.requests.slice(2).some((q) => JSON.stringify(q.input).includes("mind the syllables")), "the typed line reached the model");
    const screen = await screenOf(raw, 80, 24);
    const lines = screen.split("\n");
    for (const line of ["Step one done.", "A second line.", "» steer: mind the syllables", "All done."]) assert.ok(lines.includes(line), `${line}\n${screen}`);
    assert.match(lines.at(-2), /^goal complete · [2-9] turns · \d+ tokens · budget \d+\/100,000 · \d+s$/, screen);
    assert.match(lines.at(-1), /^thread [0-9a-f-]{36}$/, screen);
    assert.doesNotMatch(screen, /type to steer|goal active/, "no status line is left on the final screen");
  }, { fallback });
});

test("on a narrow terminal with NO_COLOR: no colour, the status line fits, Ctrl-C interrupts", T, () => {
  const g = gate();
  return withModel([held(reply("Working on it."), g)], async ({ model, home, env }) => {
    const term = script(["work forever"], { env: { ...env, NO_COLOR: "1" }, cols: 30 });
    await model.waitForRequests(1);
    await term.until(/goal active · turn 1/);
    term.type("\x03");
    const { code, raw } = await term.done;
    g.release();
    assert.equal(code, 130, raw);
    assert.doesNotMatch(raw, SGR, "NO_COLOR: no colour");
    assert.match(raw, /\r\x1b\[2K/, "still redrawn in place");
    for (const status of raw.match(/goal active[^\r\n\x1b]*/g)) assert.ok(status.length <= 29, `"${status}" fits in 30 columns`);
    const screen = await screenOf(raw, 30, 24);
    assert.match(screen, /interrupted \(goal paused\)/);
    assert.deepEqual(await leftBehind(home), [], "no app-server outlives the command");
  });
});
