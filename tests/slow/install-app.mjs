// A user's app, copied into a fresh directory where the tarballs were installed: it imports the
// installed package (never the checkout), runs a turn and a goal on the real app-server with the
// scripted model, checks the wasm build agrees, and prints what it saw as one JSON line.
import { Codex } from "codex-app-server-sdk";
import { GoalAggregator } from "codex-app-server-sdk/wasm";

const support = process.env.SDK_TEST_SUPPORT; // the checkout's tests/support, for the scripted model only
const { startMockModel, reply, goalStatus } = await import(`${support}/mock-model.mjs`);
const { makeCodexHome } = await import(`${support}/codex-home.mjs`);

const model = await startMockModel([
  reply(`hello from ${process.arch}`),
  reply("Step one done."),
  goalStatus("complete"),
  reply("All done."),
]);
const home = makeCodexHome(model.url);
const codex = await Codex.start({ env: home.env, startupTimeoutMs: 120_000, requestTimeoutMs: 300_000 });
try {
  const thread = await codex.startThread();
  const turn = await thread.run("say hello");
  const goal = await thread.goal("finish the job", { startTimeoutMs: 120_000 });
  const aggregator = new GoalAggregator(thread.id);
  for await (const n of goal) aggregator.push(n);
  const result = await goal.result();
  console.log(
    JSON.stringify({
      arch: process.arch,
      codexPath: process.env.CODEX_PATH ?? null,
      turn: { status: turn.status, finalResponse: turn.finalResponse },
      goal: { status: result.status, goalStatus: result.goal?.status, turns: result.turnIds.length, finalResponse: result.finalResponse },
      wasmAgrees: aggregator.done && aggregator.result().finalResponse === result.finalResponse,
    }),
  );
} finally {
  await codex.close();
  await model.close();
  home.cleanup();
}
