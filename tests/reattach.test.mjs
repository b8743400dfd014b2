// A goal's result after the connection to a running app-server drops, for seconds, across whole
// physical turns, and again while the client is bringing the run up to date: on the real app-server,
// through a relay of the test's own that cuts and refuses connections. Every result must be what the
// thread's history says (turn ids, items, final response, goal), with the usage the server itself
// recorded, and equal to the result of an observer on a connection that never dropped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Codex, TransportClosedError } from "../index.mjs";
import { recordedUsage } from "./support/harness.mjs";
import { goalModel, seeded } from "./support/goal-model.mjs";
import { startRelay, startServer } from "./support/server.mjs";

const TRIALS = Number(process.env.REATTACH_TRIALS ?? 4);
const MAX_GAP_MS = Number(process.env.REATTACH_MAX_GAP_MS ?? 3_000);

async function withRelayedServer(model, fn, connectOptions = {}) {
  const server = await startServer("ws", [], { fallback: model });
  const relay = await startRelay(server.url);
  const codex = await Codex.connect({ url: relay.url, token: server.token, ...connectOptions });
  const direct = await Codex.connect({ url: server.url, token: server.token });
  try {
    return await fn({ server, relay, codex, direct });
  } finally {
    await codex.close();
    await direct.close();
    await relay.close();
    await server.stop();
  }
}

/** Follows a goal handle's stream to its end. */
function follow(goal) {
  const events = [];
  const done = (async () => {
    for await (const e of goal) events.push(e);
  })();
  done.catch(() => {}); // awaited by the test; an early failure must not be masked by this one
  return { events, done };
}

/** Everything a run's result must agree with, read from a connection that never dropped. */
async function assertMatchesHistory(r, { direct, threadId, events, what }) {
  const thread = await direct.readThread(threadId, { includeTurns: true });
  const first = thread.turns.findIndex((t) => t.id === r.id);
  assert.ok(first >= 0, `${what}: the run's first turn is in the history`);
  const run = thread.turns.slice(first);
  // What the run ended as and what the history holds, so that a failure says which side is off.
  const seen = `result ${r.status}/${r.goal?.status}, history ${run.map((t) => t.status).join(",")}`;
  assert.deepEqual(r.turnIds, run.map((t) => t.id), `${what}: every physical turn, in order (${seen})`);
  assert.deepEqual(r.items, run.flatMap((t) => t.items), `${what}: every item, as the history has it`);
  assert.equal(r.finalResponse, "All done.", what);
  assert.equal(r.status, "completed", what);
  const goal = (await direct.request("thread/goal/get", { threadId })).goal;
  assert.equal(r.goal.status, "complete", what);
  assert.equal(r.goal.tokensUsed, goal.tokensUsed, what);
  const recorded = recordedUsage(thread.path, r.turnIds);
  assert.equal(r.usage.totalTokens, recorded.totalTokens, `${what}: usage as the server recorded it`);
  assert.equal(r.usage.inputTokens, recorded.inputTokens, what);
  if (events) {
    const count = (m) => events.filter((e) => e.method === m).length;
    assert.deepEqual([count("turn/started"), count("turn/completed")], [1, 1], `${what}: one logical turn on the stream`);
    assert.equal(events.at(-1).method, "turn/completed", what);
    assert.equal(count("item/completed"), r.items.length, `${what}: each item once on the stream, those of the gaps too`);
  }
}

test(`a goal through a link cut at random points (gaps up to ${MAX_GAP_MS} ms, drops while re-attaching): ${TRIALS} trials, every result is the history's`, { timeout: 60_000 + TRIALS * 60_000 }, async () => {
  const seed = Number(process.env.REATTACH_SEED ?? Date.now() % 100_000);
  const rand = seeded(seed);
  const model = goalModel({ turns: 5, wait: () => 60 + Math.floor(rand() * 500) });
  await withRelayedServer(model, async ({ relay, codex, direct }) => {
    const summary = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const what = `trial ${trial} (seed ${seed})`;
      const thread = await codex.startThread();
      const goal = await thread.goal(`survive trial ${trial}`);
      // An observer on a connection that never drops, attached as the run begins.
      const observer = await (await direct.resumeThread(thread.id)).attachGoal();
      const stream = follow(goal);
      let over = false;
      const result = goal.result().finally(() => (over = true));
      const cuts = [];
      const chaos = (async () => {
        while (!over) {
          await sleep(30 + rand() * 900);
          if (over) break;
          const gap = Math.floor(rand() * MAX_GAP_MS);
          relay.refuse(true);
          relay.cut();
          await sleep(gap);
          relay.refuse(false);
          // Sometimes the link drops again right after the client re-dials, while it brings the run up to date.
          const flaps = rand() < 0.4 ? 1 + Math.floor(rand() * 3) : 0;
          for (let i = 0; i < flaps && !over; i++) {
            const accepted = await Promise.race([relay.nextAccept().then(() => true), sleep(6_000).then(() => false)]);
            if (!accepted) break;
            await sleep(5 + rand() * 75);
            relay.cut();
          }
          // One incident at a time: the next begins once the client is back (or the run is over).
          if (flaps) await Promise.race([relay.nextAccept(), sleep(10_000), result.catch(() => {})]);
          cuts.push(flaps ? `${gap}ms+${flaps}` : `${gap}ms`);
        }
      })();
      const r = await result;
      await chaos;
      relay.refuse(false);
      await stream.done;
      await assertMatchesHistory(r, { direct, threadId: thread.id, events: stream.events, what });
      assert.deepEqual(await observer.result(), r, `${what}: the same result as an observer that never left`);
      summary.push(`${r.turnIds.length} turns, cuts ${cuts.join(" ") || "none"}`);
    }
    console.log(`seed ${seed}: ${summary.join("; ")}`);
    // Incidents come close together here (a gap, drops during the re-dial, the next gap a moment
    // later): a policy patient enough for that, so that the trial is about what the result holds.
    // The default policy riding out one 10 s gap is the next test's.
  }, { reconnect: { attempts: 40, maxDelayMs: 2_000 } });
});

test("a 10 s gap that spans whole physical turns, ridden out by the default policy: the result holds every turn, item and token of them", { timeout: 120_000 }, async () => {
  const model = goalModel({ turns: 4, wait: () => 150 });
  await withRelayedServer(model, async ({ server, relay, codex, direct }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("span the gap");
    const stream = follow(goal);
    await server.model.waitForRequests(2); // the second physical turn has started
    relay.refuse(true);
    relay.cut();
    // Turns 2, 3 and 4 start and end while this client is away (the thread is idle between turns, so
    // the goal's status says when the run is over).
    const over = async () =>
      (await direct.request("thread/goal/get", { threadId: thread.id })).goal.status === "complete" &&
      (await direct.readThread(thread.id)).status.type !== "active";
    const t0 = Date.now();
    for (let i = 0; i < 400 && !(await over()); i++) await sleep(25);
    assert.ok(await over(), "the run ended while the client was away");
    await sleep(Math.max(0, t0 + 10_000 - Date.now())); // refused for 10 s in all
    relay.refuse(false);
    const r = await goal.result();
    await stream.done;
    assert.equal(r.turnIds.length, 4);
    await assertMatchesHistory(r, { direct, threadId: thread.id, events: stream.events, what: "after the gap" });
  });
});

test("drops while the client re-attaches are just more drops: the run is brought up to date on the connection that lasts", { timeout: 120_000 }, async () => {
  const model = goalModel({ turns: 4, wait: () => 300 });
  await withRelayedServer(model, async ({ server, relay, codex, direct }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("flap");
    const stream = follow(goal);
    await server.model.waitForRequests(2);
    relay.cut();
    // Cut each new connection 5-80 ms after it is taken, four times: while the SDK initializes it or
    // while its `thread/resume` is in flight.
    for (const after of [5, 20, 45, 80]) {
      await relay.nextAccept();
      await sleep(after);
      relay.cut();
    }
    const r = await goal.result();
    await stream.done;
    assert.ok(relay.accepted >= 6, `${relay.accepted} connections`);
    await assertMatchesHistory(r, { direct, threadId: thread.id, events: stream.events, what: "after flapping" });
  });
});

test("when reconnecting gives up, a goal's result says it may still be running and names the thread to attach to", { timeout: 60_000 }, async () => {
  const model = goalModel({ turns: 3, wait: () => 400 });
  const server = await startServer("ws", [], { fallback: model });
  const relay = await startRelay(server.url);
  const codex = await Codex.connect({ url: relay.url, token: server.token, reconnect: { attempts: 2, maxDelayMs: 50 } });
  try {
    const thread = await codex.startThread();
    const goal = await thread.goal("outlive the client");
    await server.model.waitForRequests(1);
    await relay.close();
    const err = await goal.result().catch((e) => e);
    assert.ok(err instanceof TransportClosedError, String(err));
    assert.match(err.message, /reconnecting gave up after 2 attempts/);
    assert.match(err.message, new RegExp(`the goal may still be running on the server: attach to it again with thread\\.attachGoal\\(\\) on thread ${thread.id}`));
    // It is: another client follows it to its end.
    const other = await Codex.connect({ url: server.url, token: server.token });
    try {
      const r = await (await other.resumeThread(thread.id)).attachGoal().then((h) => h.result());
      assert.equal(r.goal.status, "complete");
      assert.equal(r.finalResponse, "All done.");
    } finally {
      await other.close();
    }
  } finally {
    await codex.close();
    await server.stop();
  }
});
