// Renderer: the wasm engine turns relayed notifications into one logical turn and its result.
import { GoalAggregator } from "./node_modules/codex-app-server-sdk/wasm/web/index.js";

const stream = document.getElementById("stream");
const resultView = document.getElementById("result");
let aggregator = null;

window.codex.onNotification((n) => {
  if (!aggregator) return;
  for (const logical of aggregator.push(n)) {
    if (logical.method === "item/agentMessage/delta") stream.textContent += logical.params.delta;
    else if (logical.method === "thread/goal/updated") stream.textContent += `\n[goal ${logical.params.goal.status}]\n`;
  }
  if (aggregator.done) {
    const r = aggregator.result();
    resultView.textContent = JSON.stringify({ status: r.status, turns: r.turnIds.length, usage: r.usage, final: r.finalResponse }, null, 2);
    aggregator.free();
    aggregator = null;
  }
});

document.getElementById("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  stream.textContent = "";
  resultView.textContent = "";
  // The aggregator exists before the goal starts, so it sees the first turn/started.
  const threadId = await window.codex.startThread();
  aggregator = new GoalAggregator(threadId);
  await window.codex.goal(threadId, document.getElementById("objective").value);
});
