// codex-goal's command line: parsed with node:util's parseArgs, checked into the options the run
// needs. Anything wrong is a UsageError (exit 2), said in one line, before anything is started.
import fs from "node:fs";
import { parseArgs } from "node:util";

export const USAGE = `usage: codex-goal [options] <objective…>
       codex-goal [options] --attach <thread>
       codex-goal [options] --resume <thread> [--budget <tokens>]

Runs a goal on the Codex app-server until it is complete, blocked, over its budget or interrupted:
one logical turn across every continuation. Each line read on stdin while it runs steers it.
--attach follows the goal running on a thread (started elsewhere, or before a restart) to its end;
--resume sets a paused or limited goal going again.

options:
  --budget <tokens>         token budget for the goal
  --thread <id>             run on an existing thread (resumed) instead of a new one
  --attach <thread>         follow the thread's running goal instead of starting one
  --resume <thread>         resume the thread's paused, blocked or limited goal
  --cwd <dir>               working directory for a new thread
  --model <name>            model for a new thread
  -c, --config <key=value>  config override, repeatable (as codex -c; the value is read as JSON,
                            else as text)
  --approve <never|all>     decline every approval request (default) or accept every one
  --model-timeout <seconds> stop the run when the app-server cannot reach the model for this long
                            (default 60; it reports each retry meanwhile)
  --json                    JSON lines: each notification of the goal, then its result
  --quiet                   only the final response (and errors)
  --connect <url>           use a running app-server (ws://, wss://, unix://PATH, unix://)
  --token-file <path>       the token for --connect
  --detach                  with --connect: Ctrl-C leaves the goal running on the server and
                            prints the --attach command that follows it
  -h, --help                this help
  --version                 the version

exit status: 0 complete, 3 blocked, 4 budget or usage limit reached, 130 interrupted,
             143 terminated (SIGTERM), 2 a usage error, 1 a failed turn or any other error
environment: CODEX_HOME, CODEX_PATH (as the codex CLI), NO_COLOR`;

export class UsageError extends Error {}

/** What the server takes as an objective: at most this many Unicode code points, once trimmed. */
const OBJECTIVE_MAX_CHARS = 4000;
/** Codex thread ids are UUIDs (v7). */
const THREAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** parseArgs' own messages, said as this command says things: one line naming the mistake. */
function parseError(err) {
  const name = /'(-{1,2}[^' =]+)/.exec(err.message)?.[1] ?? "";
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const hint = closest(name.replace(/^-+/, ""), Object.keys(OPTIONS));
    return `unknown option ${name}${hint ? ` (did you mean --${hint}?)` : ""}`;
  }
  if (/argument is ambiguous/.test(err.message)) return `${name} needs a value, and the next word looks like an option (write ${name}=<value> if it is the value)`;
  if (/argument missing/.test(err.message)) return `${name} needs a value`;
  if (/does not take an argument/.test(err.message)) return `${name} takes no value`;
  return err.message.split("\n")[0];
}

/** The option name most like `name`: a small edit away. */
function closest(name, names) {
  let best = null;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const n of names) {
    let prev = Array.from({ length: n.length + 1 }, (_, i) => i);
    for (let i = 1; i <= name.length; i++) {
      const row = [i];
      for (let j = 1; j <= n.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (name[i - 1] === n[j - 1] ? 0 : 1));
      prev = row;
    }
    if (prev[n.length] < bestDistance) [best, bestDistance] = [n, prev[n.length]];
  }
  return best;
}

const OPTIONS = {
  budget: { type: "string" },
  thread: { type: "string" },
  cwd: { type: "string" },
  model: { type: "string" },
  config: { type: "string", short: "c", multiple: true },
  approve: { type: "string", default: "never" },
  "model-timeout": { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
  connect: { type: "string" },
  "token-file": { type: "string" },
  attach: { type: "string" },
  resume: { type: "string" },
  detach: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
};

/** The run's options from argv (without node and the script). */
export function parse(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(parseError(err));
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  if (v.version) return { version: true };
  const objective = parsed.positionals.join(" ").trim();
  if ([...objective].length > OBJECTIVE_MAX_CHARS) {
    throw new UsageError(`the objective is ${[...objective].length} characters; the app-server takes at most ${OBJECTIVE_MAX_CHARS}`);
  }
  for (const [flag, id] of [["--thread", v.thread], ["--attach", v.attach], ["--resume", v.resume]]) {
    if (id !== undefined && !THREAD_ID.test(id.trim())) throw new UsageError(`${flag} takes a thread id (a UUID, as the summary of a run prints it), not ${JSON.stringify(id)}`);
  }
  const existing = v.attach ?? v.resume;
  if (v.attach !== undefined && v.resume !== undefined) throw new UsageError("--attach and --resume cannot be used together");
  if (existing !== undefined) {
    const flag = v.attach !== undefined ? "--attach" : "--resume";
    if (!existing.trim()) throw new UsageError(`${flag} takes a thread id`);
    if (objective) throw new UsageError(`${flag} follows the thread's own goal: no objective goes with it`);
    if (v.thread !== undefined) throw new UsageError(`${flag} names the thread: --thread does not go with it`);
    if (v.cwd !== undefined || v.model !== undefined) throw new UsageError(`--cwd and --model apply to a new thread, not to ${flag}`);
    if (v.attach !== undefined && v.budget !== undefined) throw new UsageError("--budget goes with a new goal or --resume, not --attach");
  } else if (!objective) {
    throw new UsageError("an objective is required");
  }
  if (v.detach && v.connect === undefined) throw new UsageError("--detach goes with --connect (a goal on a server this command spawned ends with it)");
  if (v.json && v.quiet) throw new UsageError("--json and --quiet cannot be used together");
  if (!["never", "all"].includes(v.approve)) throw new UsageError(`--approve takes never or all, not ${JSON.stringify(v.approve)}`);
  if (v["token-file"] !== undefined && v.connect === undefined) throw new UsageError("--token-file goes with --connect");
  if (v.thread !== undefined && (v.cwd !== undefined || v.model !== undefined)) {
    throw new UsageError("--cwd and --model apply to a new thread, not to --thread");
  }
  // A server this command spawns, or one on a unix socket, runs here: its working directory must.
  if (v.cwd !== undefined && (v.connect === undefined || v.connect.startsWith("unix:"))) {
    let stat;
    try {
      stat = fs.statSync(v.cwd);
    } catch {
      throw new UsageError(`--cwd ${JSON.stringify(v.cwd)} does not exist`);
    }
    if (!stat.isDirectory()) throw new UsageError(`--cwd ${JSON.stringify(v.cwd)} is not a directory`);
  }
  let budget;
  if (v.budget !== undefined) {
    budget = /^[1-9][0-9]*$/.test(v.budget) ? Number(v.budget) : NaN;
    if (!Number.isSafeInteger(budget)) throw new UsageError(`--budget takes a whole number of tokens above 0, not ${JSON.stringify(v.budget)}`);
  }
  let modelTimeout;
  if (v["model-timeout"] !== undefined) {
    modelTimeout = /^[0-9]+(\.[0-9]+)?$/.test(v["model-timeout"]) ? Number(v["model-timeout"]) : NaN;
    if (!(modelTimeout >= 1 && modelTimeout <= 2_000_000)) throw new UsageError(`--model-timeout takes a number of seconds from 1, not ${JSON.stringify(v["model-timeout"])}`);
  }
  const config = {};
  for (const pair of v.config ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`-c takes key=value, not ${JSON.stringify(pair)}`);
    config[pair.slice(0, eq).trim()] = value(pair.slice(eq + 1));
  }
  return {
    objective,
    attach: v.attach?.trim(),
    resume: v.resume?.trim(),
    detach: Boolean(v.detach),
    budget,
    modelTimeout,
    thread: v.thread,
    cwd: v.cwd,
    model: v.model,
    config,
    approve: v.approve,
    output: v.json ? "json" : v.quiet ? "quiet" : "human",
    connect: v.connect,
    tokenFile: v["token-file"],
  };
}

/** A -c value as codex reads one: structured when it parses (true, 3, ["a"]), else the text itself. */
function value(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
