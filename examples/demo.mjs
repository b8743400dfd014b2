#!/usr/bin/env node
// `npm run demo`: the real Codex app-server, driven by this SDK, on a bundled scripted model —
// offline, no account needed. `npm run demo -- --live` uses your own Codex login and config.
import { Codex, TurnFailedError } from "../index.mjs";
import { makeCodexHome } from "../tests/support/codex-home.mjs";
import { reply, startMockModel } from "../tests/support/mock-model.mjs";

const live = process.argv.includes("--live");
const dim = (s) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

let model = null;
let home = null;
const options = {};
if (!live) {
  // The scripted model answers like a real one would, streamed in small chunks.
  model = await startMockModel([
    reply(
      "Codex goals let an agent keep working on an objective across turns. This SDK presents that whole run " +
        "as one logical turn: one id, one stream, one result.",
      { usage: { input_tokens: 1200, output_tokens: 42, total_tokens: 1242 } },
    ),
  ]);
  home = makeCodexHome(model.url);
  options.env = home.env;
}

const codex = await Codex.start(options);
try {
  console.log(dim(`codex app-server ${codex.metadata.serverVersion} (pid ${codex.pid})${live ? "" : ", scripted model on " + model.url}`));
  const thread = await codex.startThread();
  console.log(dim(`thread ${thread.id}`));
  const prompt = "In two sentences: what does a goal-aware SDK give an app?";
  console.log(`${bold("you")}  ${prompt}`);
  const turn = await thread.turn(prompt);
  process.stdout.write(`${bold("codex")} `);
  for await (const n of turn) {
    if (n.method === "item/agentMessage/delta") process.stdout.write(n.params.delta);
    else if (n.method === "turn/started") process.stdout.write(dim(`[turn ${n.params.turn.id.slice(0, 8)}] `));
  }
  process.stdout.write("\n");
  const result = await turn.result();
  console.log(dim(`status ${result.status}, ${result.items.length} items, ${result.usage?.totalTokens ?? 0} tokens, ${result.durationMs} ms`));
} catch (err) {
  if (err instanceof TurnFailedError) console.error("turn failed:", err.result.error?.message);
  else console.error(err);
  process.exitCode = 1;
} finally {
  await codex.close();
  await model?.close();
  home?.cleanup();
}
