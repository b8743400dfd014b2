// codex-goal's command line: parsed with node:util's parseArgs, checked into the options the run
// needs. Anything wrong is a UsageError (exit 2), said in one line.
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

const OPTIONS = {
  budget: { type: "string" },
  thread: { type: "string" },
  cwd: { type: "string" },
  model: { type: "string" },
  config: { type: "string", short: "c", multiple: true },
  approve: { type: "string", default: "never" },
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
    throw new UsageError(err.message);
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  if (v.version) return { version: true };
  const objective = parsed.positionals.join(" ").trim();
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
  let budget;
  if (v.budget !== undefined) {
    budget = /^[1-9][0-9]*$/.test(v.budget) ? Number(v.budget) : NaN;
    if (!Number.isSafeInteger(budget)) throw new UsageError(`--budget takes a whole number of tokens above 0, not ${JSON.stringify(v.budget)}`);
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
