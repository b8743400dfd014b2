// Misuse of the public API, one case per entry: what a user (or an adversary) might pass, and how
// the SDK must answer. Each case runs in its own child process (tests/support/misuse-child.mjs), so
// a crash, a hang or an unhandled rejection is seen rather than missed.
//
//   setup   "none" | "codex" (real app-server, scripted model) | "thread" (plus a thread) | "fake"
//   options Codex.start options for the setup (merged over the isolating env)
//   run     async (ctx) => ...  what the user does; its rejection is the outcome
//   expect  { code, kind?, message? }: the rejection's code, constructor name, and message pattern
//           or check(outcome, ctx) for anything else
import { setTimeout as sleep } from "node:timers/promises";
import { makeCodexHome } from "./codex-home.mjs";
import { goalStatus, reply } from "./mock-model.mjs";

const fake = new URL("../fakes/scripted-server.mjs", import.meta.url).pathname;
const invalid = (message, kind = "TypeError") => ({ code: "ERR_INVALID_ARGUMENT", kind, message });
const circular = () => {
  const o = { a: 1 };
  o.self = o;
  return o;
};
const throwingString = { toString() { throw new Error("no text for you"); } };

/** Every bad timeout value, for each option that takes one. */
const badTimeouts = {
  NaN: [NaN, "RangeError"],
  negative: [-1, "RangeError"],
  zero: [0, "RangeError"],
  Infinity: [Infinity, "RangeError"],
  huge: [1e20, "RangeError"],
  string: ["100", "TypeError"],
};

export const cases = {};
const add = (name, c) => (cases[name] = c);

// ---- Codex.start ----
for (const [label, value] of [["a number", 42], ["null", null], ["a string", "codex"], ["an array", []]]) {
  add(`Codex.start(${label})`, { setup: "none", run: ({ Codex }) => Codex.start(value), expect: invalid(/Codex\.start: options must be an object/) });
}
add("Codex.start: a misspelt option", { setup: "none", run: ({ Codex }) => Codex.start({ codexpath: "/x" }), expect: invalid(/unknown option "codexpath" \(did you mean "codexPath"\?\); valid options: codexPath, config/) });
add("Codex.start: onServerRequest not a function", { setup: "none", run: ({ Codex }) => Codex.start({ onServerRequest: "yes" }), expect: invalid(/onServerRequest must be a function, got "yes"/) });
for (const option of ["startupTimeoutMs", "requestTimeoutMs", "serverRequestTimeoutMs"]) {
  for (const [label, [value, kind]] of Object.entries(badTimeouts)) {
    add(`Codex.start: ${option} ${label}`, { setup: "none", run: ({ Codex }) => Codex.start({ [option]: value }), expect: invalid(new RegExp(`Codex\\.start: ${option} must be`), kind) });
  }
}
add("Codex.start: clientInfo without version", { setup: "none", run: ({ Codex }) => Codex.start({ clientInfo: { name: "app" } }), expect: invalid(/clientInfo\.version must be a string, got undefined/) });
add("Codex.start: clientInfo with a stray key", { setup: "none", run: ({ Codex }) => Codex.start({ clientInfo: { name: "a", version: "1", vendor: "x" } }), expect: invalid(/clientInfo: unknown option "vendor"/) });
add("Codex.start: env value not a string", { setup: "none", run: ({ Codex }) => Codex.start({ env: { RUST_LOG: 1 } }), expect: invalid(/env\.RUST_LOG must be a string, got 1/) });
add("Codex.start: env not an object", { setup: "none", run: ({ Codex }) => Codex.start({ env: "RUST_LOG=warn" }), expect: invalid(/env must be an object/) });
add("Codex.start: config with a BigInt", { setup: "none", run: ({ Codex }) => Codex.start({ config: { limit: 10n } }), expect: invalid(/config\.limit is 10n, which a config value cannot be/) });
add("Codex.start: config with a cycle", { setup: "none", run: ({ Codex }) => Codex.start({ config: circular() }), expect: invalid(/config\.self refers back to an object that holds it \(a cycle\)/) });
add("Codex.start: config value null", { setup: "none", run: ({ Codex }) => Codex.start({ config: { model: null } }), expect: invalid(/config\.model is null, which a config value cannot be/) });
add("Codex.start: a function in config", { setup: "none", run: ({ Codex }) => Codex.start({ config: { hooks: { onStart() {} } } }), expect: invalid(/config\.hooks\.onStart is a function, which a config value cannot be/) });
add("Codex.start: NaN in config", { setup: "none", run: ({ Codex }) => Codex.start({ config: { limits: [1, NaN] } }), expect: invalid(/config\.limits\[1\] is NaN/) });
add("Codex.start: an env name with =", { setup: "none", run: ({ Codex }) => Codex.start({ env: { "A=B": "x" } }), expect: invalid(/env has the name "A=B", which no environment can hold/) });
add("Codex.start: an empty env name", { setup: "none", run: ({ Codex }) => Codex.start({ env: { "": "x" } }), expect: invalid(/env has the name "", which no environment can hold/) });
add("Codex.start: an env value with NUL", { setup: "none", run: ({ Codex }) => Codex.start({ env: { A: "x\0y" } }), expect: invalid(/env\.A contains a NUL character/) });
add("Codex.start: a timeout under 1 ms", { setup: "none", run: ({ Codex }) => Codex.start({ requestTimeoutMs: 0.5 }), expect: invalid(/requestTimeoutMs must be from 1 to 2147483647 ms, got 0\.5/, "RangeError") });
add("Codex.start: a cwd that does not exist", { setup: "none", run: ({ Codex }) => Codex.start({ cwd: "/nonexistent/project" }), expect: invalid(/Codex\.start: cwd "\/nonexistent\/project" does not exist/) });
add("Codex.start: a cwd that is a file", { setup: "none", run: ({ Codex }) => Codex.start({ cwd: "/etc/hostname" }), expect: invalid(/cwd "\/etc\/hostname" is not a directory/) });
add("Codex.start: an initialize answer that is not an object", {
  setup: "none",
  run: ({ Codex }) => Codex.start({ codexPath: fake, env: { FAKE_INITIALIZE_RESULT: "5" } }),
  expect: { code: "ERR_PROTOCOL", kind: "CodexError", message: /initialize: the app-server's answer is not an object \(it is 5\)/ },
});
add("Codex.start: cwd not a string", { setup: "none", run: ({ Codex }) => Codex.start({ cwd: 5 }), expect: invalid(/cwd must be a string, got 5/) });
add("Codex.start: a codexPath that does not exist", { setup: "none", run: ({ Codex }) => Codex.start({ codexPath: "/nonexistent/codex" }), expect: { code: "ERR_SPAWN", kind: "CodexError", message: /could not start \/nonexistent\/codex/ } });
add("Codex.start: a config value the app-server refuses (its error, without a backtrace or escapes)", {
  setup: "none",
  run: ({ Codex }) => {
    const home = makeCodexHome("http://127.0.0.1:9/v1");
    const env = { ...home.env, RUST_BACKTRACE: "1", RUST_LIB_BACKTRACE: "1" };
    return Codex.start({ config: { sandbox_mode: "bogus" }, env }).finally(home.cleanup);
  },
  check: ({ outcome, code, message }) =>
    outcome === "rejected" && code === "ERR_TRANSPORT_CLOSED" && /exited with code 1/.test(message) && /unknown variant `bogus`/.test(message) && !/Stack backtrace|\x1b\[/.test(message),
});
add("Codex.start: experimentalApi not a boolean", { setup: "none", run: ({ Codex }) => Codex.start({ experimentalApi: "yes" }), expect: invalid(/experimentalApi must be a boolean/) });

// ---- Codex.connect ----
const connectCase = (name, options, expect) => add(`Codex.connect: ${name}`, { setup: "none", run: ({ Codex }) => Codex.connect(options), expect });
add("Codex.connect()", { setup: "none", run: ({ Codex }) => Codex.connect(), expect: invalid(/Codex\.connect: options with a url are required/) });
connectCase("no url", { token: "t" }, invalid(/Codex\.connect: url must be a string, got undefined/));
connectCase("a url that is not ws, wss or unix", { url: "http://127.0.0.1:1" }, invalid(/Codex\.connect: .*ws:\/\/, wss:\/\/ or unix:\/\//));
connectCase("a url that is not a url", { url: "not a url" }, invalid(/Codex\.connect: /));
connectCase("a token that is not a string", { url: "ws://127.0.0.1:1", token: 42 }, invalid(/token must be a string, got 42/));
connectCase("a token a header cannot carry", { url: "ws://127.0.0.1:1", token: "abc\r\nX-Injected: 1" }, invalid(/the token cannot be sent in an HTTP header/));
connectCase("reconnect attempts of zero", { url: "ws://127.0.0.1:1", reconnect: { attempts: 0 } }, invalid(/reconnect\.attempts/, "RangeError"));
connectCase("reconnect with an unknown bound", { url: "ws://127.0.0.1:1", reconnect: { attemps: 2 } }, invalid(/unknown option "attemps" \(did you mean "attempts"\?\)/));
connectCase("a spawning option", { url: "ws://127.0.0.1:1", codexPath: "/x" }, invalid(/unknown option "codexPath"/));
connectCase("plain ws:// off loopback", { url: "ws://192.0.2.1:4500", token: "t" }, invalid(/plain ws:\/\/ to a host that is not loopback .* allowInsecure/));
for (const [label, [value, kind]] of Object.entries(badTimeouts)) {
  connectCase(`connectTimeoutMs ${label}`, { url: "ws://127.0.0.1:1", connectTimeoutMs: value }, invalid(/connectTimeoutMs/, kind));
}

// ---- the client ----
add("request: method not a string", { setup: "codex", run: ({ codex }) => codex.request(5), expect: invalid(/request: method must be a string/) });
add("request: empty method", { setup: "codex", run: ({ codex }) => codex.request(""), expect: invalid(/request: method must not be empty/) });
add("request: params with a BigInt", { setup: "codex", run: ({ codex }) => codex.request("thread/list", { limit: 10n }), expect: invalid(/thread\/list: params cannot be sent as JSON: .*BigInt/) });
add("request: params with a cycle", { setup: "codex", run: ({ codex }) => codex.request("thread/list", circular()), expect: invalid(/params cannot be sent as JSON/) });
add("request: params with a lone surrogate", { setup: "codex", run: ({ codex }) => codex.request("thread/list", { searchTerm: "\ud800" }), expect: invalid(/lone surrogate/) });
add("request: a misspelt option", { setup: "codex", run: ({ codex }) => codex.request("thread/list", {}, { timeout: 5 }), expect: invalid(/unknown option "timeout" \(did you mean "timeoutMs"\?\)/) });
add("request: options not an object", { setup: "codex", run: ({ codex }) => codex.request("thread/list", {}, "fast"), expect: invalid(/options must be an object, got "fast"/) });
add("request: signal not an AbortSignal", { setup: "codex", run: ({ codex }) => codex.request("thread/list", {}, { signal: {} }), expect: invalid(/signal must be an AbortSignal, got an object/) });
for (const [label, [value, kind]] of Object.entries(badTimeouts)) {
  add(`request: timeoutMs ${label}`, { setup: "codex", run: ({ codex }) => codex.request("thread/list", {}, { timeoutMs: value }), expect: invalid(/timeoutMs must be/, kind) });
}
add("notifications: signal not an AbortSignal", { setup: "codex", run: async ({ codex }) => codex.notifications({ signal: 1 }), expect: invalid(/notifications: signal must be an AbortSignal/) });
add("startThread: a misspelt param", { setup: "codex", run: ({ codex }) => codex.startThread({ modle: "o3" }), expect: invalid(/startThread: unknown option "modle" \(did you mean "model"\?\)/) });
add("startThread: params not an object", { setup: "codex", run: ({ codex }) => codex.startThread("o3"), expect: invalid(/startThread: options must be an object/) });
add("readThread: no id", { setup: "codex", run: ({ codex }) => codex.readThread(), expect: invalid(/readThread: threadId must be a string, got undefined/) });
add("readThread: a misspelt option", { setup: "codex", run: ({ codex }) => codex.readThread("t", { includeturns: true }), expect: invalid(/did you mean "includeTurns"/) });
add("forkThread: threadId among the params", { setup: "codex", run: ({ codex }) => codex.forkThread("t", { threadId: "u" }), expect: invalid(/forkThread: unknown option "threadId"/) });
add("models: a misspelt option", { setup: "codex", run: ({ codex }) => codex.models({ hidden: true }), expect: invalid(/models: unknown option "hidden"/) });
add("after close(): a request", {
  setup: "codex",
  run: async ({ codex }) => {
    await codex.close();
    return codex.request("thread/list");
  },
  expect: { code: "ERR_TRANSPORT_CLOSED", kind: "TransportClosedError", message: /^the client was closed \(during thread\/list\)$/ },
});

// ---- turns ----
add("turn: options a long string", { setup: "thread", run: ({ thread }) => thread.turn("x", "o".repeat(1e6)), expect: invalid(/turn: options must be an object, got a string of 1000000 characters/) });
add("turn: a misspelt signal", { setup: "thread", run: ({ thread }) => thread.turn("x", { signl: AbortSignal.timeout(1000) }), expect: invalid(/turn: unknown option "signl" \(did you mean "signal"\?\)/) });
add("turn: a misspelt turn param", { setup: "thread", run: ({ thread }) => thread.turn("x", { modle: "o3" }), expect: invalid(/did you mean "model"/) });
add("turn: signal not an AbortSignal", { setup: "thread", run: ({ thread, model }) => thread.turn("x", { signal: {} }).finally(() => (model.requests.length ? Promise.reject(new Error("a turn was sent")) : null)), expect: invalid(/turn: signal must be an AbortSignal/) });
add("turn: input a number", { setup: "thread", run: ({ thread }) => thread.turn(5), expect: invalid(/turn: input must be a string, or an object with a string `type`, got 5/) });
add("turn: input null", { setup: "thread", run: ({ thread }) => thread.turn(null), expect: invalid(/got null/) });
add("turn: input an empty array", { setup: "thread", run: ({ thread }) => thread.turn([]), expect: invalid(/turn: input is empty/) });
add("turn: a text item without text", { setup: "thread", run: ({ thread }) => thread.turn({ type: "text" }), expect: invalid(/input\.text must be a string, got undefined/) });
add("turn: a text item with a stray field", { setup: "thread", run: ({ thread }) => thread.turn([{ type: "text", text: "x", txt: "y" }]), expect: invalid(/input\[0\] \(text\): unknown option "txt"/) });
add("turn: text with a lone surrogate", { setup: "thread", run: ({ thread }) => thread.turn("\udc00 hello"), expect: invalid(/lone surrogate/) });
add("turn: an unknown item type", { setup: "thread", run: ({ thread }) => thread.turn({ type: "video", url: "x" }), expect: invalid(/unknown type "video"; known types: text, image/) });
add("turn: outputSchema with a cycle", { setup: "thread", run: ({ thread }) => thread.turn("x", { outputSchema: circular() }), expect: invalid(/turn: options cannot be sent as JSON/) });
add("turn: model a BigInt", { setup: "thread", run: ({ thread }) => thread.turn("x", { model: 1n }), expect: invalid(/BigInt/) });
// Checked before anything is sent: a turn that would be refused later must not reach the model.
const unsent = (run) => ({ thread, model }) => run(thread).finally(() => (model.requests.length ? Promise.reject(new Error("a turn was sent")) : null));
add("turn: a cwd that does not exist", { setup: "thread", run: unsent((t) => t.turn("x", { cwd: "/nope" })), expect: invalid(/turn: cwd "\/nope" does not exist/) });
add("turn: a cwd that is a file", { setup: "thread", run: unsent((t) => t.turn("x", { cwd: "/etc/hostname" })), expect: invalid(/turn: cwd "\/etc\/hostname" is not a directory/) });
add("turn: an effort no model advertises", { setup: "thread", run: unsent((t) => t.turn("x", { effort: "extreme" })), expect: invalid(/turn: effort "extreme" is not a reasoning effort any model of this app-server advertises: low, medium, high/, "RangeError") });
add("turn: an effort the named model does not advertise", { setup: "thread", run: unsent((t) => t.turn("x", { model: "gpt-5.5", effort: "ultra" })), expect: invalid(/effort "ultra" is not a reasoning effort model gpt-5\.5 advertises: low, medium, high, xhigh$/, "RangeError") });
add("turn: a summary the schema does not list", { setup: "thread", run: unsent((t) => t.turn("x", { summary: "loud" })), expect: invalid(/turn: summary must be one of "auto", "concise", "detailed", "none", got "loud"/, "RangeError") });
add("startThread: a cwd that does not exist", { setup: "codex", run: ({ codex }) => codex.startThread({ cwd: "/nope" }), expect: invalid(/startThread: cwd "\/nope" does not exist/) });
add("startThread: a sandbox the schema does not list", { setup: "codex", run: ({ codex }) => codex.startThread({ sandbox: "none" }), expect: invalid(/startThread: sandbox must be one of "read-only", "workspace-write", "danger-full-access", got "none"/, "RangeError") });
add("resumeThread: a personality of the wrong type", { setup: "codex", run: ({ codex }) => codex.resumeThread("x", { personality: 3 }), expect: invalid(/resumeThread: personality must be one of "none", "friendly", "pragmatic", got 3/) });
add("attachGoal: a signal already aborted", {
  setup: "thread",
  run: ({ thread }) => thread.attachGoal({ signal: AbortSignal.abort() }),
  expect: { code: "ABORT_ERR", kind: "AbortError", message: /attachGoal was aborted/ },
});
add("attachGoal: a signal of the wrong type", { setup: "thread", run: ({ thread }) => thread.attachGoal({ signal: "now" }), expect: invalid(/attachGoal: signal must be an AbortSignal/) });
add("resumeGoal: a signal already aborted", {
  setup: "thread",
  run: ({ thread }) => thread.resumeGoal({ signal: AbortSignal.abort() }),
  expect: { code: "ABORT_ERR", kind: "AbortError", message: /resumeGoal was aborted/ },
});
add("resumeGoal: a budget that is not a number", { setup: "thread", run: ({ thread }) => thread.resumeGoal({ tokenBudget: "lots" }), expect: invalid(/resumeGoal: tokenBudget must be a number/) });
add("resumeGoal: a misspelt option", { setup: "thread", run: ({ thread }) => thread.resumeGoal({ budget: 5 }), expect: invalid(/resumeGoal: unknown option "budget"/) });
add("resumeGoal: aborted while the resume starts", {
  setup: "thread",
  model: { fallback: () => reply("working") },
  check: ({ outcome, value }) => outcome === "resolved" && value.name === "AbortError" && value.goal !== "active" && value.status !== "active",
  run: async ({ thread, codex }) => {
    await thread.goal("first").then((g) => g.cancel());
    const ac = new AbortController();
    const pending = thread.resumeGoal({ signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    const err = await pending.then((g) => g.cancel().then(() => ({ name: "AbortError" })), (e) => e);
    const goal = await thread.getGoal();
    const info = await codex.readThread(thread.id);
    return { name: err.name, goal: goal?.status, status: info.status.type };
  },
});
add("steer: after a plain turn ended", {
  setup: "thread",
  run: async ({ thread }) => {
    const turn = await thread.turn("hi");
    await turn.result();
    return turn.steer("more");
  },
  expect: { code: "ERR_NO_ACTIVE_TURN", kind: "CodexError", message: /turn\/steer: the run on thread \S+ has no active turn/ },
});
add("steer: input a number", {
  setup: "thread",
  run: async ({ thread }) => {
    const turn = await thread.turn("hi");
    await turn.result();
    return turn.steer(7);
  },
  expect: invalid(/steer: input must be a string/),
});

// ---- goals ----
for (const [label, objective, pattern] of [
  ["empty", "", /goal: the objective is empty/],
  ["blank", " \n\t ", /goal: the objective is empty/],
  ["over 4000 characters", "a".repeat(4001), /goal: the objective has 4001 characters; the app-server takes at most 4000/],
  ["a lone surrogate", "fix \ud800", /lone surrogate/],
]) {
  add(`goal: objective ${label}`, { setup: "thread", run: ({ thread }) => thread.goal(objective), expect: invalid(pattern) });
}
add("goal: objective a number", { setup: "thread", run: ({ thread }) => thread.goal(5), expect: invalid(/goal: objective must be a string, got 5/) });
add("goal: a misspelt budget", {
  setup: "thread",
  run: ({ thread, model }) => thread.goal("x", { budget: 10 }).finally(() => (model.requests.length ? Promise.reject(new Error("a goal ran")) : null)),
  expect: invalid(/goal: unknown option "budget"; valid options: tokenBudget, startTimeoutMs, signal/),
});
add("goal: tokenBudget negative", { setup: "thread", run: ({ thread }) => thread.goal("x", { tokenBudget: -1 }), expect: invalid(/tokenBudget must be a positive integer/, "RangeError") });
add("goal: tokenBudget fractional", { setup: "thread", run: ({ thread }) => thread.goal("x", { tokenBudget: 1.5 }), expect: invalid(/tokenBudget must be a positive integer/, "RangeError") });
add("goal: tokenBudget a string", { setup: "thread", run: ({ thread }) => thread.goal("x", { tokenBudget: "10" }), expect: invalid(/tokenBudget must be a number/) });
for (const [label, [value, kind]] of Object.entries(badTimeouts)) {
  add(`goal: startTimeoutMs ${label}`, { setup: "thread", run: ({ thread }) => thread.goal("x", { startTimeoutMs: value }), expect: invalid(/goal: startTimeoutMs must be/, kind) });
}
add("goal: signal a string", { setup: "thread", run: ({ thread }) => thread.goal("x", { signal: "stop" }), expect: invalid(/goal: signal must be an AbortSignal/) });
add("steer: after a goal ended", {
  setup: "thread",
  model: [goalStatus("complete"), reply("done")],
  run: async ({ thread }) => {
    const goal = await thread.goal("finish");
    await goal.result();
    return goal.steer("more");
  },
  expect: { code: "ERR_NO_ACTIVE_TURN", kind: "CodexError", message: /turn\/steer: the run on thread \S+ has no active turn/ },
});
add("setName: a number", { setup: "thread", run: ({ thread }) => thread.setName(5), expect: invalid(/setName: name must be a string/) });

// ---- aborts ----
add("turn: aborted while turn/start is in flight; the next turn on the thread runs", {
  setup: "thread",
  check: ({ outcome, value }) => outcome === "resolved" && value.aborted === "AbortError" && value.next === "completed",
  run: async ({ thread }) => {
    const ac = new AbortController();
    const pending = thread.turn("first", { signal: ac.signal });
    ac.abort();
    const aborted = await pending.then(() => "resolved", (e) => e.name);
    const next = await thread.run("second");
    return { aborted, next: next.status };
  },
});
add("goal: aborted while the server is slow to answer the set", {
  setup: "fake",
  env: { FAKE_GOAL_SET_DELAY_MS: "1500" },
  check: ({ outcome, value }) =>
    outcome === "resolved" && value.name === "AbortError" && value.code === "ABORT_ERR" && value.ms >= 1300 && value.ms < 5000 && value.sent,
  run: async ({ codex }) => {
    const thread = await codex.startThread();
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 100);
    const err = await thread.goal("slow", { signal: ac.signal }).catch((e) => e);
    const ms = Date.now() - t0;
    // Rejected once the set already sent has settled (it may have landed: a rejection means nothing
    // of the start can still act), not after the request timeout; the set was not dropped.
    const received = await codex.request("received");
    return { name: err.name, code: err.code, ms, sent: received.includes("thread/goal/set") };
  },
});
add("goal: aborted after the native start resolved, before goal() returned", {
  setup: "thread",
  model: { fallback: () => reply("working") },
  check: ({ outcome, value }) => outcome === "resolved" && value.name === "AbortError" && value.goal === "paused" && value.status === "idle",
  run: async ({ thread, codex }) => {
    const ac = new AbortController();
    const pending = thread.goal("job", { signal: ac.signal });
    // Keep the event loop busy while the native start resolves, then abort before goal()'s
    // continuation can run: the abort must still be honoured.
    const until = Date.now() + 1500;
    while (Date.now() < until);
    ac.abort();
    const err = await pending.catch((e) => e);
    const goal = await thread.getGoal();
    const info = await codex.readThread(thread.id);
    return { name: err.name, goal: goal?.status, status: info.status.type };
  },
});

// ---- server requests ----
const askWith = (answer) => ({
  setup: "fake",
  options: { onServerRequest: answer, serverRequestTimeoutMs: 60_000 },
  check: ({ outcome, value }) => outcome === "resolved" && value.answer.error?.code === -32603 && value.ms < 2000,
  run: async ({ codex }) => {
    const t0 = Date.now();
    const answer = await codex.request("ask", { method: "item/tool/requestUserInput", params: {} });
    return { answer, ms: Date.now() - t0 };
  },
});
add("onServerRequest: answers a BigInt", askWith(() => ({ n: 1n })));
add("onServerRequest: answers a cycle", askWith(() => circular()));
add("onServerRequest: answers an object whose toJSON throws", askWith(() => ({ toJSON() { throw new Error("nope"); } })));
add("onServerRequest: answers a lone surrogate", askWith(() => ({ text: "\ud800" })));
add("onServerRequest: throws a value whose String() throws", askWith(() => { throw throwingString; }));
add("onServerRequest: rejects with undefined", askWith(() => Promise.reject(undefined)));
add("onServerRequest: throws a symbol", askWith(() => { throw Symbol("odd"); }));

// ---- process trees ----
add("close(): a grandchild the app-server started goes with it", {
  setup: "fake",
  check: ({ outcome, value }) => outcome === "resolved" && value.aliveBefore && !value.aliveAfter,
  run: async ({ codex, alive }) => {
    const { pid } = await codex.request("spawn");
    const aliveBefore = alive(pid);
    await codex.close();
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
    return { aliveBefore, aliveAfter: alive(pid) };
  },
});

export { fake };
