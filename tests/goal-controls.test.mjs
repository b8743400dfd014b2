// Goal controls at every instant (issue: a continuation ran after interrupt/cancel resolved; a refused
// objective wiped the stored goal). The sweep strikes interrupt() and cancel() at many offsets
// around the rollover between physical turns, where the server may already have decided on a
// continuation, and checks on the scripted model's own log that no model request of that thread
// arrives after the call resolved.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Codex, CodexRpcError } from "../index.mjs";
import { withCodex } from "./support/harness.mjs";
import { reply } from "./support/mock-model.mjs";

// Trials per control; CI's slower proof script raises it (GOAL_SWEEP_TRIALS=500).
const TRIALS = Number(process.env.GOAL_SWEEP_TRIALS ?? 100);
const PARALLEL = 4;
// The server's gap between a turn's completion and its continuation's start is a few ms here:
// strike from just before the end of a physical turn to well past the next start.
const OFFSETS_MS = [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14];
const TRIGGERS = ["thread/tokenUsage/updated", "thread/goal/updated"];

async function trial(codex, i, control) {
  const thread = await codex.startThread();
  const goal = await thread.goal(`sweep ${control} ${i}`);
  const trigger = TRIGGERS[i % TRIGGERS.length];
  const strikeAt = 1 + (i % 2); // at the end of the first or second physical turn
  const offset = OFFSETS_MS[Math.floor(i / 2) % OFFSETS_MS.length];
  const events = [];
  let seen = 0;
  let call = null;
  let resolvedAt = null;
  for await (const e of goal) {
    events.push(e);
    if (call || e.method !== trigger || ++seen !== strikeAt) continue;
    const act = () => (control === "cancel" ? goal.cancel() : goal.interrupt());
    call = (offset === 0 ? act() : sleep(offset).then(act)).then(() => (resolvedAt = Date.now()));
  }
  assert.ok(call, `trial ${i}: the strike point was reached`);
  await call;
  const result = await goal.result();
  return { thread, goal, events, result, resolvedAt, offset, trigger };
}

for (const control of ["interrupt", "cancel"]) {
  test(`${control}() swept over the rollover: no model request follows it, no turn follows the logical end`, { timeout: 600_000 }, () =>
    withCodex(
      [],
      async ({ codex, model }) => {
        // The raw stream, to measure how late a continuation starts after the pause.
        const raw = [];
        const all = codex.notifications();
        const recording = (async () => {
          for await (const n of all) if (n.method === "turn/started" || n.method === "thread/goal/updated") raw.push(n);
        })().catch(() => {});
        const runs = [];
        for (let next = 0; next < TRIALS; ) {
          const batch = [];
          for (let k = 0; k < PARALLEL && next < TRIALS; k++) batch.push(trial(codex, next++, control));
          runs.push(...(await Promise.all(batch)));
        }
        // Absence cannot be awaited: give a continuation the last trial might have started a
        // window far longer than the server's gap before looking at the model's log.
        await sleep(300);
        let late = 0;
        for (const run of runs) {
          const { thread, goal, events, result, resolvedAt } = run;
          assert.equal(result.status, "interrupted", `trial on ${thread.id}: ${result.status}`);
          assert.equal(events.filter((e) => e.method === "turn/started").length, 1);
          assert.equal(events.filter((e) => e.method === "turn/completed").length, 1);
          assert.equal(events.at(-1).method, "turn/completed", "nothing after the logical end");
          for (const e of events) {
            const id = e.params.turnId ?? e.params.turn?.id;
            if (id != null) assert.equal(id, goal.id, `${e.method} carries the logical id`);
          }
          const after = model.arrivals.filter((a) => a.threadId === thread.id && a.at > resolvedAt);
          assert.deepEqual(after, [], `a model request followed ${control}() (offset ${run.offset} ms after ${run.trigger})`);
          const info = await thread.read({ includeTurns: true });
          assert.equal(info.status.type, "idle", "nothing runs on the thread");
          assert.equal((await thread.getGoal()).status, "paused");
          late += info.turns.length - result.turnIds.length;
        }
        // How often the server had already started a continuation that the SDK then stopped, and
        // how long after the pause it started (the figure behind the SDK's grace period).
        const gaps = [];
        for (const { thread } of runs) {
          const mine = raw.filter((n) => n.params.threadId === thread.id);
          const paused = mine.find((n) => n.method === "thread/goal/updated" && n.params.goal.status === "paused");
          const after = paused && mine.slice(mine.indexOf(paused)).find((n) => n.method === "turn/started");
          if (after) gaps.push(after.emittedAtMs - paused.emittedAtMs);
        }
        console.log(`${control}: ${runs.length} trials, ${late} late continuation(s) caught; gaps after the pause (ms): ${JSON.stringify(gaps)}`);
        await all.return();
        await recording;
      },
      { model: { fallback: () => reply("progress") } },
    ));
}

test("an objective the server would refuse is rejected before anything is sent; the stored goal stays", { timeout: 60_000 }, () =>
  withCodex([], async ({ codex }) => {
    const thread = await codex.startThread();
    await codex.request("thread/goal/set", { threadId: thread.id, objective: "the stored goal", status: "paused" });
    const before = await thread.getGoal();
    for (const objective of ["a".repeat(4001), ` ${"é".repeat(4001)} `, "😀".repeat(4001), "", " \n\t "]) {
      const err = await thread.goal(objective).catch((e) => e);
      assert.ok(err instanceof Error, `refused: ${objective.length} chars`);
      assert.equal(err.code, "ERR_INVALID_ARGUMENT", String(err));
    }
    assert.deepEqual(await thread.getGoal(), before, "the stored goal is untouched");
    // At the limit (counted as the server counts: Unicode scalar values after trimming) it is taken.
    const atLimit = "😀".repeat(4000);
    const goal = await thread.goal(`  ${atLimit}  `);
    assert.equal(goal.goal.objective, atLimit);
    await goal.cancel();
    await goal.result();
  }, { model: { fallback: () => reply("progress") } }));

test("when the server refuses the new goal after the clear, the error says the previous goal is gone", { timeout: 30_000 }, async () => {
  // The real server refuses nothing the SDK lets through after a successful clear; a fake does.
  const codex = await Codex.start({ codexPath: fileURLToPath(new URL("./fakes/scripted-server.mjs", import.meta.url)) });
  try {
    const thread = await codex.startThread();
    const err = await thread.goal("replace it").catch((e) => e);
    assert.ok(err instanceof CodexRpcError, String(err));
    assert.equal(err.method, "thread/goal/set");
    assert.match(err.message, /goal store unavailable.*previous goal had already been cleared/);
  } finally {
    await codex.close();
  }
});
