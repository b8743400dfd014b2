// Nothing the app-server started outlives it: on the real app-server, with a login shell whose
// .bashrc starts a long-lived process (as nvm, pyenv or conda init can), a tool call that runs
// `setsid sleep 600 &`, and a double-forked daemon (fork, setsid, fork) — each of which leaves the
// app-server's process group. Checked 2 s after close(), after the app-server is SIGKILLed, and
// after Node exits by itself without close() (its event loop running dry, and process.exit()).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Codex } from "../index.mjs";
import { makeCodexHome } from "./support/codex-home.mjs";
import { functionCall, reply, startMockModel } from "./support/mock-model.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const T = { timeout: 90_000 };
const exec = (cmd) => functionCall("exec_command", { cmd });
const ESCAPERS = [
  exec("setsid sleep 600 > /dev/null 2>&1 &"),
  exec("perl -MPOSIX -e 'fork and exit; POSIX::setsid(); fork and exit; open STDIN, q(</dev/null); open STDOUT, q(>/dev/null); open STDERR, q(>/dev/null); sleep 605'"),
];

/** A scripted model and a CODEX_HOME whose login shell starts a process of its own. */
async function world() {
  const model = await startMockModel([reply([ESCAPERS[0]]), reply([ESCAPERS[1]]), reply("started")]);
  const home = makeCodexHome(model.url);
  // The login shell's home (home.env.HOME, empty for other tests) gets a .bashrc of its own.
  fs.writeFileSync(path.join(home.env.HOME, ".bashrc"), "sleep 660 > /dev/null 2>&1 &\n");
  fs.writeFileSync(path.join(home.env.HOME, ".bash_profile"), ". ~/.bashrc\n");
  return { model, home, env: home.env, cleanup: async () => (await model.close(), home.cleanup()) };
}

/** The processes whose environment names this CODEX_HOME (all the app-server's tree inherits it),
 * zombies aside, with their command lines. */
function treeOf(home) {
  const found = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`CODEX_HOME=${home.dir}`)) continue;
      if (/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))) continue;
      found.push(`${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim()}`);
    } catch {}
  }
  return found;
}

/** What of the tree is alive 2 s after `since`. */
async function leftAfter2s(home, since) {
  await new Promise((r) => setTimeout(r, Math.max(0, since + 2_000 - Date.now())));
  return treeOf(home);
}

/** The escapers ran and are alive outside the app-server's group. */
function assertEscaped(home, pid) {
  const tree = treeOf(home);
  for (const name of ["sleep 660", "sleep 600", "sleep 605"]) assert.ok(tree.some((p) => p.endsWith(name)), `${name} is running: ${tree.join("; ")}`);
  const group = Number(fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[2]);
  const outside = tree.filter((p) => {
    const stat = fs.readFileSync(`/proc/${p.split(":")[0]}/stat`, "utf8");
    return Number(stat.split(") ")[1].split(" ")[2]) !== group;
  });
  assert.ok(outside.length >= 3, `processes outside the app-server's group ${group}: ${outside.join("; ")}`);
}

async function runTools(codex) {
  const thread = await codex.startThread({ sandbox: "danger-full-access" });
  const r = await thread.run("start things");
  assert.equal(r.items.filter((i) => i.type === "commandExecution").length, 2);
}

test("close(): no process of the app-server's tree is alive 2 s later, those that left its group included", T, async () => {
  const w = await world();
  try {
    const codex = await Codex.start({ env: w.env });
    await runTools(codex);
    assertEscaped(w.home, codex.pid);
    const t0 = Date.now();
    await codex.close();
    assert.deepEqual(await leftAfter2s(w.home, t0), []);
  } finally {
    await w.cleanup();
  }
});

test("the app-server SIGKILLed: no process of its tree is alive 2 s later", T, async () => {
  const w = await world();
  try {
    const codex = await Codex.start({ env: w.env });
    try {
      await runTools(codex);
      assertEscaped(w.home, codex.pid);
      const t0 = Date.now();
      process.kill(codex.pid, "SIGKILL");
      assert.deepEqual(await leftAfter2s(w.home, t0), []);
    } finally {
      await codex.close();
    }
  } finally {
    await w.cleanup();
  }
});

for (const ending of ["return", "exit"]) {
  test(`Node exits by itself without close() (${ending === "return" ? "its event loop runs dry" : "process.exit()"}): no process of the tree is alive 2 s later`, T, async () => {
    const w = await world();
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [path.join(here, "support/tree-child.mjs"), ending], {
        env: { ...process.env, TEST_CODEX_ENV: JSON.stringify(w.env) },
        timeout: 60_000,
      });
      const t0 = Date.now();
      assert.equal(JSON.parse(stdout).status, "completed");
      assert.deepEqual(await leftAfter2s(w.home, t0), []);
    } finally {
      await w.cleanup();
    }
  });
}
