#!/usr/bin/env node
// A fake app-server for faults the real one cannot be made to show on demand. It completes the
// handshake, then does what each request asks:
//   echo {…}                answer with the params
//   hang                    never answer
//   emit {lines: [...]}     write each raw line to stdout, then answer {}
//   die {code, stderr}      write stderr and exit with that code
//   ask {method, params}    send that server request, then answer with the client's reply
//   thread/read {failures}  answer -32001 (overloaded) `failures` times, then succeed
//   turn/start              always -32001
//   thread/start            {thread: {id: "fake-thread"}}
//   thread/goal/clear       {cleared: true}
//   thread/goal/set         with an objective: -32603 (a server that refuses the goal after the clear),
//                           after FAKE_GOAL_SET_DELAY_MS when set; with only a status: {goal}
//   spawn                   starts a `sleep` grandchild (as a tool would) and answers {pid}
//   received                answers the methods received so far, in order
// FAKE_THREAD (JSON `{goal, views: [turns, …]}`) scripts a stored thread instead: `thread/resume`
// (without `excludeTurns`) answers with the first view of its turns, each `thread/read` with turns
// with the next view (the last one repeated), and `thread/goal/get` its goal: a history the server
// is still settling. With `usage: {afterMs, tokenUsage}`, the answer to `thread/resume` is followed
// `afterMs` later by a `thread/tokenUsage/updated` carrying it (the real server sends it beside its
// answer, a few ms either side).
// FAKE_BANNER in the environment is printed to stdout before anything else (a noisy shell wrapper);
// FAKE_INITIALIZE_RESULT (JSON) replaces the answer to `initialize` (a server of another kind).
import { spawn } from "node:child_process";
import readline from "node:readline";

const send = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");
if (process.env.FAKE_BANNER) process.stdout.write(process.env.FAKE_BANNER + "\n");
const waiting = new Map();
const received = [];
let overloads = 0;
let asked = 0;
const stored = process.env.FAKE_THREAD ? JSON.parse(process.env.FAKE_THREAD) : null;
let views = 0;
const storedThread = (id, turns) => ({ thread: { id, turns, status: { type: "idle" } } });
const nextView = () => stored.views[Math.min(views++, stored.views.length - 1)];

readline.createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", (line) => {
  const msg = JSON.parse(line);
  if (msg.method === undefined && waiting.has(msg.id)) {
    const reply = waiting.get(msg.id);
    waiting.delete(msg.id);
    reply(msg);
    return;
  }
  const p = msg.params ?? {};
  received.push(msg.method);
  switch (msg.method) {
    case "initialize":
      if (process.env.FAKE_INITIALIZE_RESULT) return send({ id: msg.id, result: JSON.parse(process.env.FAKE_INITIALIZE_RESULT) });
      return send({ id: msg.id, result: { userAgent: "fake/0.0.1 (test)", codexHome: "/nonexistent", platformFamily: "unix", platformOs: "linux" } });
    case "echo":
      return send({ id: msg.id, result: p });
    case "emit":
      for (const l of p.lines) process.stdout.write(l + "\n");
      return send({ id: msg.id, result: {} });
    case "die":
      process.stderr.write(p.stderr ?? "");
      return process.exit(p.code ?? 1);
    case "ask": {
      const id = `srv-${++asked}`;
      waiting.set(id, (answer) => send({ id: msg.id, result: answer }));
      return send({ id, method: p.method, params: p.params ?? {} });
    }
    case "thread/resume":
      if (!stored) return;
      send({ id: msg.id, result: storedThread(p.threadId, p.excludeTurns ? [] : nextView()) });
      if (stored.usage) {
        const params = { threadId: p.threadId, turnId: stored.usage.turnId, tokenUsage: stored.usage.tokenUsage };
        setTimeout(() => send({ method: "thread/tokenUsage/updated", params }), stored.usage.afterMs);
      }
      return;
    case "thread/goal/get":
      if (stored) return send({ id: msg.id, result: { goal: stored.goal } });
      return;
    case "thread/read":
      if (stored && p.includeTurns) return send({ id: msg.id, result: storedThread(p.threadId, nextView()) });
      if (overloads < (p.failures ?? 0)) {
        overloads += 1;
        return send({ id: msg.id, error: { code: -32001, message: "Server overloaded; retry later." } });
      }
      return send({ id: msg.id, result: { thread: { id: p.threadId, attempts: overloads + 1 } } });
    case "turn/start":
      return send({ id: msg.id, error: { code: -32001, message: "Server overloaded; retry later." } });
    case "thread/start":
      return send({ id: msg.id, result: { thread: { id: "fake-thread" } } });
    case "thread/goal/clear":
      return send({ id: msg.id, result: { cleared: true } });
    case "thread/goal/set": {
      if (p.objective === undefined) return send({ id: msg.id, result: { goal: { threadId: p.threadId, status: p.status } } });
      const refuse = () => send({ id: msg.id, error: { code: -32603, message: "goal store unavailable" } });
      return setTimeout(refuse, Number(process.env.FAKE_GOAL_SET_DELAY_MS ?? 0));
    }
    case "spawn": {
      const child = spawn("sleep", ["600"], { stdio: "ignore" });
      return send({ id: msg.id, result: { pid: child.pid } });
    }
    case "received":
      return send({ id: msg.id, result: received });
    default:
      return; // "hang" and anything else: no answer
  }
});
