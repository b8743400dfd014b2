// An ESM consumer that brings nothing of its own: the SDK's types must bring what they use.
import { Codex, type TurnResult } from "codex-app-server-sdk";
import { GoalAggregator } from "codex-app-server-sdk/wasm";

export async function main(): Promise<TurnResult> {
  const codex = await Codex.start();
  try {
    const thread = await codex.startThread();
    return await thread.run("hello", { signal: AbortSignal.timeout(1000) });
  } finally {
    await codex.close();
    new GoalAggregator("t").free();
  }
}
