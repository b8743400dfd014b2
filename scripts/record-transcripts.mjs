#!/usr/bin/env node
// Records what the pinned app-server really sends during goal runs and plain turns, driven by raw
// requests against the scripted model, into crates/engine/tests/fixtures/<name>.jsonl (one
// notification of the run's thread per line, as received). The engine's tests and the wasm
// conformance suite replay them. Re-run after pinning a new codex version:
//   node scripts/record-transcripts.mjs [name ...]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Codex } from "../index.mjs";
import { makeCodexHome } from "../tests/support/codex-home.mjs";
import { failure, functionCall, gate, reply, startMockModel } from "../tests/support/mock-model.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "crates/engine/tests/fixtures");
const usage = (total) => ({ usage: { input_tokens: total - 5, output_tokens: 5, total_tokens: total } });
const goalCall = (status) => reply([functionCall("update_goal", { status })], usage(15));
const held = (text, g) => [...reply(text, usage(15)).slice(0, 2), g.event, ...reply(text, usage(15)).slice(2)];

/** Each scenario: a model script, and what to do once the thread exists. */
const scenarios = {
  "plain-turn": {
    script: () => [reply("Plain answer.", usage(15))],
    run: async ({ rpc, threadId }) => rpc("turn/start", { threadId, input: [{ type: "text", text: "hi" }] }),
  },
  "goal-complete-after-continuation": {
    script: () => [reply("Step one done.", usage(15)), goalCall("complete"), reply("All done.", usage(15))],
    run: ({ setGoal }) => setGoal(),
  },
  "goal-blocked": {
    script: () => [goalCall("blocked"), reply("I am blocked on credentials.", usage(15))],
    run: ({ setGoal }) => setGoal(),
  },
  "goal-budget-limited": {
    script: () => [],
    fallback: () => reply("Made some progress.", usage(25)),
    run: ({ setGoal }) => setGoal({ tokenBudget: 40 }),
  },
  "goal-failed": {
    script: () => [reply("Step one done.", usage(15)), failure("the model fell over")],
    run: ({ setGoal }) => setGoal(),
  },
  "goal-paused-mid-run": {
    script: (g) => [held("Working on step one.", g), reply("should not run", usage(15))],
    run: async ({ setGoal, rpc, threadId, model, g }) => {
      await setGoal();
      await model.waitForRequests(1);
      await rpc("thread/goal/set", { threadId, status: "paused" });
      g.release();
    },
  },
  "goal-cleared-mid-run": {
    script: (g) => [held("Working on step one.", g), reply("should not run", usage(15))],
    run: async ({ setGoal, rpc, threadId, model, g }) => {
      await setGoal();
      await model.waitForRequests(1);
      await rpc("thread/goal/clear", { threadId });
      g.release();
    },
  },
  "goal-interrupted-in-continuation": {
    script: (g) => [reply("Step one done.", usage(15)), held("Step two in progress.", g)],
    run: async ({ setGoal, rpc, threadId, model, g, events }) => {
      await setGoal();
      await model.waitForRequests(2);
      const second = events.filter((e) => e.method === "turn/started")[1]?.params.turn.id;
      await rpc("thread/goal/set", { threadId, status: "paused" });
      await rpc("turn/interrupt", { threadId, turnId: second });
      g.release();
    },
  },
};

async function record(name, scenario) {
  const g = gate();
  const model = await startMockModel(scenario.script(g), scenario.fallback ? { fallback: scenario.fallback } : {});
  const home = makeCodexHome(model.url);
  const codex = await Codex.start({ env: home.env });
  const events = [];
  const lines = [];
  try {
    const { thread } = await codex.request("thread/start", {});
    const threadId = thread.id;
    const stream = codex.notifications();
    const pump = (async () => {
      for await (const n of stream) {
        const t = n.params?.threadId ?? n.params?.thread?.id;
        if (t !== threadId) continue;
        events.push(n);
        lines.push(JSON.stringify(n));
      }
    })();
    const rpc = (method, params) => codex.request(method, params);
    const setGoal = async (extra = {}) => {
      await rpc("thread/goal/clear", { threadId });
      await rpc("thread/goal/set", { threadId, objective: `fixture ${name}`, status: "active", ...extra });
    };
    await scenario.run({ rpc, threadId, setGoal, model, g, events });
    await settled(events);
    await stream.return();
    await pump;
    fs.writeFileSync(path.join(outDir, `${name}.jsonl`), lines.join("\n") + "\n");
    console.log(`${name}: ${lines.length} notifications, ${events.filter((e) => e.method === "turn/started").length} turns`);
  } finally {
    g.release();
    await codex.close();
    await model.close();
    home.cleanup();
  }
}

/** Waits until the thread is idle after its last turn and no continuation follows (recording only). */
async function settled(events) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error("the run did not settle within 30 s");
    const completed = events.filter((e) => e.method === "turn/completed").length;
    const started = events.filter((e) => e.method === "turn/started").length;
    if (completed > 0 && completed === started) {
      // Quiet for a moment with every turn completed: a continuation would have started by now.
      const count = events.length;
      await new Promise((r) => setTimeout(r, 1500));
      if (events.length === count && events.filter((e) => e.method === "turn/started").length === started) return;
    } else {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

fs.mkdirSync(outDir, { recursive: true });
const wanted = process.argv.slice(2);
for (const [name, scenario] of Object.entries(scenarios)) {
  if (wanted.length && !wanted.includes(name)) continue;
  await record(name, scenario);
}
