#!/usr/bin/env node
// A fake app-server for benchmarks: the whole turn (turn/started, FLOOD_DELTAS deltas,
// turn/completed) is prepared before the turn starts and written in one go at memory speed, so a
// benchmark measures the reader, not the producer.
import readline from "node:readline";

const count = Number(process.env.FLOOD_DELTAS ?? 200_000);
const threadId = "bench-thread";
const turnId = "bench-turn";
const turn = (status) => ({ id: turnId, items: [], status, error: null, startedAt: 1, completedAt: status === "completed" ? 2 : null, durationMs: status === "completed" ? 1000 : null });
const lines = [JSON.stringify({ method: "turn/started", params: { threadId, turn: turn("inProgress") } })];
for (let i = 0; i < count; i++) {
  lines.push(JSON.stringify({ method: "item/agentMessage/delta", params: { threadId, turnId, itemId: "msg_1", delta: `token ${i} ` } }));
}
lines.push(JSON.stringify({ method: "item/completed", params: { threadId, turnId, item: { type: "agentMessage", id: "msg_1", text: "done", phase: null } } }));
lines.push(JSON.stringify({ method: "turn/completed", params: { threadId, turn: turn("completed") } }));
const flood = Buffer.from(lines.join("\n") + "\n");

const send = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");
readline.createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", (line) => {
  const msg = JSON.parse(line);
  if (msg.method === "initialize") send({ id: msg.id, result: { userAgent: "flood/0 (bench)", codexHome: "/none", platformFamily: "unix", platformOs: "linux" } });
  else if (msg.method === "thread/start") send({ id: msg.id, result: { thread: { id: threadId } } });
  else if (msg.method === "turn/start") {
    send({ id: msg.id, result: { turn: turn("inProgress") } });
    process.stdout.write(flood);
  }
});
