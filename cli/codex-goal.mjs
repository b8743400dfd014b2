#!/usr/bin/env node
// codex-goal: runs one goal on the Codex app-server from the shell, as one logical turn across all its
// continuations, with live progress, steering from stdin and clean interruption. Built only on the
// package's public API: it is also the fullest example of it.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Codex, TurnFailedError } from "../index.mjs";
import { parse, USAGE, UsageError } from "./args.mjs";
import { HumanReport, JsonReport, QuietReport } from "./report.mjs";
import { readSteers } from "./steer.mjs";

const EXIT = { complete: 0, blocked: 3, budgetLimited: 4, usageLimited: 4 };
const FAILED = 1;
const USAGE_ERROR = 2;
const INTERRUPTED = 130;
const TERMINATED = 143; // 128 + SIGTERM, as a shell reports a command the signal ended

/** Answers for approvals when no one is there to ask: all declined (the default) or all accepted. */
function approvals(approve) {
  const yes = approve === "all";
  return (request) => {
    switch (request.method) {
      case "item/commandExecution/requestApproval":
      case "item/fileChange/requestApproval":
        return { decision: yes ? "accept" : "decline" };
      case "execCommandApproval":
      case "applyPatchApproval":
        return { decision: yes ? "approved" : { denied: { rejection: "declined by codex-goal (--approve never)" } } };
      case "item/permissions/requestApproval":
        return { permissions: yes ? request.params.permissions : {}, scope: "turn" };
      case "mcpServer/elicitation/request":
        return { action: "decline", content: null };
      default:
        // Nobody can answer it headless: the server gets an error and the run goes on.
        throw new Error(`codex-goal cannot answer ${request.method} without a person`);
    }
  };
}

async function main(argv) {
  let o;
  try {
    o = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`codex-goal: ${err.message}\n(codex-goal --help shows how it is used)\n`);
    return USAGE_ERROR;
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (o.version) {
    const pkg = createRequire(import.meta.url)("../package.json");
    process.stdout.write(`codex-goal ${pkg.version} (${pkg.name})\n`);
    return 0;
  }
  let token;
  if (o.tokenFile !== undefined) {
    try {
      token = fs.readFileSync(o.tokenFile, "utf8").trim();
    } catch (err) {
      process.stderr.write(`codex-goal: cannot read --token-file: ${err.message}\n`);
      return USAGE_ERROR;
    }
  }

  const out = process.stdout;
  const color = !("NO_COLOR" in process.env && process.env.NO_COLOR !== "") && (out.hasColors?.() ?? false);
  const report = o.output === "json" ? new JsonReport(out) : o.output === "quiet" ? new QuietReport(out) : new HumanReport(out, { budget: o.budget, color });
  const live = o.output === "human" && out.isTTY && process.stdin.isTTY && process.env.TERM !== "dumb";

  // The first interrupt pauses the goal and interrupts its turn (through the goal's signal); the
  // second quits at once, taking a spawned app-server (its own process group) along. With --detach
  // the first leaves the goal running on the server and says how to follow it again.
  const stop = new AbortController();
  let codex = null;
  let thread = null;
  let interrupts = 0;
  const interrupt = (status = INTERRUPTED) => {
    interrupts += 1;
    if (interrupts === 1 && o.detach && status === INTERRUPTED) {
      report.detached(attachCommand(o, thread?.id ?? o.attach ?? o.resume ?? o.thread));
      const closed = codex ? codex.close() : Promise.resolve();
      closed.finally(() => process.stdout.write("", () => process.exit(INTERRUPTED)));
      return;
    }
    if (interrupts === 1) {
      report.note("interrupting: pausing the goal (interrupt again to quit at once)");
      stop.abort();
      return;
    }
    if (codex?.pid) {
      try {
        process.kill(-codex.pid, "SIGKILL");
      } catch {}
    }
    process.exit(status);
  };
  process.on("SIGINT", () => interrupt());
  // SIGTERM (a supervisor, `timeout`) asks to quit, not to be asked again: at once.
  process.on("SIGTERM", () => {
    interrupts = 1;
    interrupt(TERMINATED);
  });
  // A reader that went away (`| head`) is an interrupt too: nobody is left to see the run.
  out.on("error", (err) => {
    if (err.code === "EPIPE" && interrupts === 0) interrupt();
  });

  let input = null;
  try {
    const common = { onServerRequest: approvals(o.approve), ...(o.modelTimeout ? { modelUnreachableTimeoutMs: o.modelTimeout * 1000 } : {}) };
    codex = o.connect
      ? await Codex.connect({ url: o.connect, token, ...common })
      : await Codex.start({ ...(Object.keys(o.config).length ? { config: o.config } : {}), ...common });
    if (stop.signal.aborted) return INTERRUPTED;
    const existing = o.attach ?? o.resume ?? o.thread;
    thread = existing
      ? await codex.resumeThread(existing).catch((err) => {
          // A thread this server does not have is a mistake in the command line, said plainly.
          if (err?.code === "ERR_RPC" && /not found|no thread|no rollout/i.test(err.message)) {
            throw Object.assign(new Error(`no thread ${existing} on this app-server (${codex.metadata.codexHome})`), { usage: true });
          }
          throw err;
        })
      : await codex.startThread({
          ...(o.cwd !== undefined ? { cwd: path.resolve(o.cwd) } : {}),
          ...(o.model !== undefined ? { model: o.model } : {}),
          // A running server has its configuration: overrides go to the thread.
          ...(o.connect && Object.keys(o.config).length ? { config: o.config } : {}),
        });

    // Steering: lines read before the goal started wait for it; each is sent in order.
    let handle = null;
    const waiting = [];
    let steering = Promise.resolve();
    const steer = (text) => {
      steering = steering.then(async () => {
        try {
          await handle.steer(text);
          report.steered(text);
        } catch (err) {
          report.note(`not steered (${err.code ?? "error"}): ${err.message}`);
        }
      });
    };
    input = readSteers({
      stdin: process.stdin,
      raw: live,
      onLine: (text) => (handle ? steer(text) : waiting.push(text)),
      onTyping: (text) => report.input(text),
      onInterrupt: interrupt,
    });
    report.started({ threadId: thread.id, serverVersion: codex.metadata.serverVersion, where: o.connect && shown(o.connect), steerable: live });

    const budget = o.budget !== undefined ? { tokenBudget: o.budget } : {};
    if (o.attach) {
      // Following a run this command did not start: an interrupt pauses it, as for one it started.
      handle = await thread.attachGoal({ signal: stop.signal });
      const attached = handle;
      if (stop.signal.aborted) await attached.cancel();
      else stop.signal.addEventListener("abort", () => attached.cancel().catch(() => {}), { once: true });
    } else if (o.resume) {
      handle = await thread.resumeGoal({ ...budget, signal: stop.signal });
    } else {
      handle = await thread.goal(o.objective, { ...budget, signal: stop.signal });
    }
    for (const text of waiting.splice(0)) steer(text);
    for await (const n of handle) report.notification(n, handle);
    let result;
    try {
      result = await handle.result();
    } catch (err) {
      if (!(err instanceof TurnFailedError)) throw err;
      result = err.result;
    }
    input.close();
    const interrupted = stop.signal.aborted;
    report.finished(result, { interrupted, threadId: thread.id, resume: resumeCommand(o, thread.id, result) });
    if (interrupted) return INTERRUPTED;
    if (result.status === "failed") return FAILED;
    return EXIT[result.goal?.status] ?? FAILED;
  } catch (err) {
    input?.close();
    if (err?.code === "ABORT_ERR") {
      report.finished(null, { interrupted: true, threadId: thread?.id, resume: thread ? resumeCommand(o, thread.id, null) : null });
      return INTERRUPTED;
    }
    process.stderr.write(`codex-goal: ${err?.code ? `${err.code}: ` : ""}${err?.message ?? err}\n`);
    return err?.usage || err?.code === "ERR_INVALID_ARGUMENT" ? USAGE_ERROR : FAILED;
  } finally {
    await codex?.close();
  }
}

/** How to reach the same server again from the shell: `--connect` and its token file, as given. */
function where(o) {
  if (!o.connect) return "";
  return ` --connect ${shell(shown(o.connect))}${o.tokenFile !== undefined ? ` --token-file ${shell(o.tokenFile)}` : ""}`;
}

/** A URL as output may show it: without credentials (`user:pass@`) or a query (`?token=`), which
 * are secrets more often than not (the token belongs in --token-file). */
function shown(url) {
  return url.replace(/^([a-z]+:\/\/)[^/?#]*@/i, "$1").replace(/[?#].*$/, "");
}

function attachCommand(o, threadId) {
  return `codex-goal${where(o)} --attach ${threadId}`;
}

/** What to run to go on with a goal that did not complete: resume it (with more budget when the
 * budget stopped it); `null` when it completed or there is nothing to resume. */
function resumeCommand(o, threadId, result) {
  const status = result?.goal?.status;
  if (status === "complete" || (result && !result.goal)) return null;
  const budget = status === "budgetLimited" ? " --budget <more tokens>" : "";
  return `codex-goal${where(o)} --resume ${threadId}${budget}`;
}

/** A word for a POSIX shell, quoted when it needs to be. */
function shell(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

main(process.argv.slice(2)).then(
  (code) => process.stdout.write("", () => process.exit(code)),
  (err) => {
    process.stderr.write(`codex-goal: ${err?.stack ?? err}\n`);
    process.exit(FAILED);
  },
);
