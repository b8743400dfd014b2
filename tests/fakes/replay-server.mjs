#!/usr/bin/env node
// A stand-in app-server that replays what the real one sent: for platforms where the real binary
// cannot run (the Windows codex under Wine, whose sqlite locking Wine 8 does not implement; see
// scripts/prove-windows.mjs). Speaks the app-server's JSON-RPC over stdio:
//   initialize                the handshake
//   thread/start, thread/read one thread, idle
//   turn/start                answers with the recorded plain turn's id, then sends its notifications
//   thread/goal/clear, thread/goal/set
//                             an objective: answers, then sends the recorded goal run's notifications
//                             (the goal completes after a continuation); a status: answers with it
//   thread/goal/get, turn/interrupt, thread/resume   plain answers
//   spawn                     starts a long-lived grandchild (a Node process) and answers {pid}
// REPLAY_HOLD=<file>: the goal run stops after its first text delta (a model still answering) and
// writes <file>; a pause and an interrupt then end it as the real server does.
// The recordings are the engine's fixtures (crates/engine/tests/fixtures), taken from the real
// pinned app-server; their thread id is replaced by this server's one.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const fixtures = process.env.REPLAY_FIXTURES ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "../../crates/engine/tests/fixtures");
const THREAD = "01a20000-0000-7000-8000-00000000fa4e";

/** A recording's lines, its own thread id replaced by ours. */
function recording(name) {
  const lines = fs.readFileSync(path.join(fixtures, `${name}.jsonl`), "utf8").trim().split("\n");
  const own = JSON.parse(lines[0]).params.thread?.id ?? JSON.parse(lines[0]).params.threadId;
  return lines.map((l) => l.split(own).join(THREAD)).filter((l) => JSON.parse(l).method !== "thread/started");
}

const plain = recording("plain-turn");
const goal = recording("goal-complete-after-continuation");
const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const replay = (lines) => {
  for (const l of lines) process.stdout.write(`${l}\n`);
};
const turnOf = (lines) => JSON.parse(lines.find((l) => JSON.parse(l).method === "turn/started")).params.turn;
const children = [];
const hold = process.env.REPLAY_HOLD;
let held = null;

readline.createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", (line) => {
  const msg = JSON.parse(line);
  if (msg.method === undefined) return; // an answer to a server request: none are asked
  const p = msg.params ?? {};
  const answer = (result) => send({ id: msg.id, result });
  switch (msg.method) {
    case "initialize":
      return answer({ userAgent: "replay/0.169.0 (fake)", codexHome: process.env.CODEX_HOME ?? "", platformFamily: process.platform === "win32" ? "windows" : "unix", platformOs: process.platform });
    case "initialized":
      return;
    case "thread/start":
    case "thread/resume":
    case "thread/read":
      return answer({ thread: { id: THREAD, ephemeral: false, status: { type: "idle" }, modelProvider: "mock_provider", turns: [] } });
    case "turn/start":
      answer({ turn: { ...turnOf(plain), items: [] } });
      return replay(plain);
    case "thread/goal/clear":
      return answer({ cleared: false });
    case "thread/goal/set": {
      const first = goal.findIndex((l) => JSON.parse(l).method === "thread/goal/updated");
      const stored = JSON.parse(goal[first]).params.goal;
      if (p.objective === undefined) {
        const updated = { ...stored, status: p.status ?? stored.status };
        answer({ goal: updated });
        return send({ method: "thread/goal/updated", params: { threadId: THREAD, turnId: null, goal: updated } });
      }
      answer({ goal: stored });
      if (!hold) return replay(goal.slice(first));
      const delta = goal.findIndex((l) => JSON.parse(l).method === "item/agentMessage/delta");
      replay(goal.slice(first, delta + 1));
      held = { turn: turnOf(goal), goal: stored };
      return fs.writeFileSync(hold, "holding");
    }
    case "thread/goal/get":
      return answer({ goal: null });
    case "turn/interrupt":
      answer({});
      if (held) {
        const turn = { ...held.turn, items: [], status: "interrupted", completedAt: held.turn.startedAt, durationMs: 1 };
        send({ method: "turn/completed", params: { threadId: THREAD, turn } });
        held = null;
      }
      return;
    case "spawn": {
      const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 600000)"], { stdio: "ignore" });
      children.push(child);
      return answer({ pid: child.pid });
    }
    default:
      return send({ id: msg.id, error: { code: -32601, message: `${msg.method}: not in the replay` } });
  }
});
