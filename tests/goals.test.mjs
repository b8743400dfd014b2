// Goals on the real app-server: one logical turn across continuations, and every way a run ends.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CodexError, GoalHandle, TransportClosedError, TurnFailedError } from "../index.mjs";
import { collect, withCodex } from "./support/harness.mjs";
import { delay, failure, gate, goalStatus, message, reply } from "./support/mock-model.mjs";

const T = { timeout: 90_000 };
const usage = (total) => ({ usage: { input_tokens: total - 5, output_tokens: 5, total_tokens: total } });
const held = (text, g) => [...reply(text).slice(0, 2), g.event, ...reply(text).slice(2)];

/** The contract of a goal stream: one start, one completion, every turn id the logical one. */
function assertOneLogicalTurn(events, goal) {
  assert.equal(events[0].method, "turn/started");
  assert.equal(events.at(-1).method, "turn/completed");
  assert.equal(events.filter((e) => e.method === "turn/started").length, 1);
  assert.equal(events.filter((e) => e.method === "turn/completed").length, 1);
  for (const e of events) {
    const id = e.params.turnId ?? e.params.turn?.id;
    if (id !== undefined && id !== null) assert.equal(id, goal.id, `${e.method} carries the logical id`);
  }
}

test("a goal that completes after a continuation is one logical turn", T, () =>
  withCodex([reply("Step one done.", usage(15)), goalStatus("complete", usage(15)), reply("All done.", usage(15))], async ({ codex }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("ship the feature");
    assert.ok(goal instanceof GoalHandle);
    assert.equal(goal.threadId, thread.id);
    assert.equal(goal.turnIds[0], goal.id);
    assert.equal(goal.goal.objective, "ship the feature");
    const events = await collect(goal);
    assertOneLogicalTurn(events, goal);
    assert.ok(events.some((e) => e.method === "thread/goal/updated" && e.params.goal.status === "complete"), "progress reaches the stream");
    const r = await goal.result();
    assert.equal(r.status, "completed");
    assert.equal(r.id, goal.id);
    assert.equal(r.turnIds.length, 2);
    assert.deepEqual(goal.turnIds, r.turnIds);
    assert.equal(r.finalResponse, "All done.");
    assert.deepEqual(r.items.filter((i) => i.type === "agentMessage").map((i) => i.text), ["Step one done.", "All done."]);
    assert.equal(r.usage.totalTokens, 45);
    assert.equal(r.goal.status, "complete");
    assert.equal(goal.goal.status, "complete");
    assert.ok(r.completedAt >= r.startedAt);
    assert.equal((await thread.getGoal()).status, "complete");
  }));

test("a goal the model reports blocked ends after its turn", T, () =>
  withCodex([goalStatus("blocked"), reply("Blocked on credentials.")], async ({ codex }) => {
    const thread = await codex.startThread();
    const r = await thread.runGoal("deploy");
    assert.equal(r.status, "completed");
    assert.equal(r.goal.status, "blocked");
    assert.equal(r.turnIds.length, 1);
    assert.equal(r.finalResponse, "Blocked on credentials.");
  }));

test("a token budget stops the run budgetLimited", T, () =>
  withCodex([], async ({ codex }) => {
    const thread = await codex.startThread();
    const r = await thread.runGoal("keep going", { tokenBudget: 40 });
    assert.equal(r.goal.status, "budgetLimited");
    assert.equal(r.goal.tokenBudget, 40);
    assert.equal(r.turnIds.length, 2);
    assert.equal(r.usage.totalTokens, 50);
  }, { model: { fallback: () => reply("Made some progress.", usage(25)) } }));

test("a failed physical turn fails the goal; a second goal on that thread still runs", T, () =>
  withCodex([reply("Step one done."), failure("the model fell over"), goalStatus("complete"), reply("Recovered.")], async ({ codex }) => {
    const thread = await codex.startThread();
    const err = await thread.runGoal("fragile work").catch((e) => e);
    assert.ok(err instanceof TurnFailedError, String(err));
    assert.equal(err.result.status, "failed");
    assert.match(err.result.error.message, /the model fell over/);
    assert.equal(err.result.turnIds.length, 2);
    assert.equal(err.result.goal.status, "blocked");
    const again = await thread.runGoal("try once more");
    assert.equal(again.status, "completed");
    assert.equal(again.goal.status, "complete");
    assert.equal(again.goal.objective, "try once more");
    assert.equal(again.finalResponse, "Recovered.");
  }));

test("interrupt() during a continuation ends the run interrupted and nothing continues", T, () => {
  const g = gate();
  return withCodex([reply("Step one done."), held("Step two...", g)], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("long job");
    await model.waitForRequests(2);
    await goal.interrupt();
    const r = await goal.result();
    assert.equal(r.status, "interrupted");
    assert.equal(r.turnIds.length, 2);
    g.release();
    assert.equal((await thread.getGoal()).status, "paused", "the goal was paused so no continuation follows");
    await goal.interrupt(); // after the end: no effect
    assert.equal(model.requests.length, 2);
  });
});

test("cancel() in the first turn pauses and interrupts", T, () => {
  const g = gate();
  return withCodex([held("thinking", g)], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("job");
    await model.waitForRequests(1);
    await goal.cancel();
    const r = await goal.result();
    assert.equal(r.status, "interrupted");
    assert.equal(r.goal.status, "paused");
    g.release();
  });
});

test("aborting the signal during start rejects AbortError and leaves the goal paused", T, () => {
  const g = gate();
  return withCodex([held("never", g), reply("later turn")], async ({ codex }) => {
    const thread = await codex.startThread();
    const ac = new AbortController();
    const pending = thread.goal("aborted job", { signal: ac.signal });
    ac.abort();
    await assert.rejects(pending, { name: "AbortError" });
    g.release();
    const stored = await thread.getGoal();
    assert.ok(stored === null || stored.status === "paused", `goal left ${stored?.status}`);
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(thread.goal("never sent", { signal: pre.signal }), { name: "AbortError" });
    // The thread is free again.
    const r = await thread.run("plain turn after");
    assert.equal(r.status, "completed");
  });
});

test("goals aborted while they start reject only once their goal is settled: six at once, aborted at 20 or 60 ms", T, () =>
  withCodex([], async ({ codex }) => {
    const threads = await Promise.all(Array.from({ length: 6 }, () => codex.startThread()));
    const outcomes = await Promise.all(
      threads.map(async (thread, i) => {
        const ac = new AbortController();
        setTimeout(() => ac.abort(), i % 2 ? 60 : 20);
        const started = await thread.goal(`aborted job ${i}`, { signal: ac.signal }).then(
          (goal) => goal,
          (err) => err,
        );
        // Read the moment the promise settled: nothing of the start may still be on its way.
        const [goal, info] = await Promise.all([thread.getGoal(), thread.read()]);
        return { started, goal, status: info.status.type, after: started.result ? await started.result() : null };
      }),
    );
    for (const [i, o] of outcomes.entries()) {
      if (o.after) {
        // The abort came after the start resolved: it cancelled the run.
        assert.equal(o.after.status, "interrupted", `goal ${i}`);
        continue;
      }
      assert.equal(o.started.name, "AbortError", `goal ${i}: ${o.started}`);
      assert.ok(o.goal === null || o.goal.status === "paused", `goal ${i}: the stored goal is ${o.goal?.status} when goal() rejected`);
      assert.notEqual(o.status, "active", `goal ${i}: no turn runs when goal() rejected`);
    }
    assert.ok(outcomes.some((o) => !o.after), "at least one start was aborted before it resolved");
  }));

test("a model provider that reuses item ids in later turns loses no message", T, () => {
  // Some providers number items per response: each turn's message is `msg_0`.
  const same = (text) => ({ ...message(text), id: "msg_0" });
  return withCodex([reply([same("Step one done.")]), goalStatus("complete"), reply([same("All done.")])], async ({ codex }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("reuse ids");
    const events = await collect(goal);
    const r = await goal.result();
    assert.equal(r.turnIds.length, 2);
    assert.equal(r.finalResponse, "All done.");
    assert.deepEqual(r.items.filter((i) => i.type === "agentMessage").map((i) => i.text), ["Step one done.", "All done."]);
    const streamed = events.filter((e) => e.method === "item/completed" && e.params.item.type === "agentMessage").map((e) => e.params.item.text);
    assert.deepEqual(streamed, ["Step one done.", "All done."]);
  });
});

test("aborting the signal after start cancels: result() resolves interrupted", T, () => {
  const g = gate();
  return withCodex([held("thinking", g)], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const ac = new AbortController();
    const goal = await thread.goal("job", { signal: ac.signal });
    await model.waitForRequests(1);
    ac.abort();
    assert.equal((await goal.result()).status, "interrupted");
    g.release();
  });
});

test("a start timeout pauses the goal, interrupts what started, and rejects TimeoutError", T, () => {
  const g = gate();
  return withCodex([held("slow", g), reply("plain turn after")], async ({ codex }) => {
    const thread = await codex.startThread();
    const err = await thread.goal("too slow to start", { startTimeoutMs: 1 }).catch((e) => e);
    assert.ok(err instanceof CodexError, String(err));
    assert.equal(err.code, "ERR_TIMEOUT");
    const stored = await thread.getGoal();
    assert.equal(stored?.status, "paused", "no continuation can follow");
    g.release();
    assert.equal((await thread.read()).status.type === "active" ? "busy" : "free", "free", "whatever started was interrupted");
    assert.equal((await thread.run("still usable")).status, "completed");
  });
});

test("pausing mid-run lets the running turn finish, then the run ends", T, () => {
  const g = gate();
  return withCodex([held("Working on step one.", g), reply("should not run")], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("job");
    await model.waitForRequests(1);
    const paused = await thread.pauseGoal();
    assert.equal(paused.status, "paused");
    g.release();
    const r = await goal.result();
    assert.equal(r.status, "completed");
    assert.equal(r.turnIds.length, 1);
    assert.equal(r.goal.status, "paused");
    assert.equal(model.requests.length, 1);
  });
});

test("clearing mid-run ends the run after the running turn", T, () => {
  const g = gate();
  return withCodex([held("Working on step one.", g), reply("should not run")], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("job");
    await model.waitForRequests(1);
    assert.equal(await thread.clearGoal(), true);
    g.release();
    const events = await collect(goal);
    assertOneLogicalTurn(events, goal);
    assert.ok(events.some((e) => e.method === "thread/goal/cleared"));
    assert.equal((await goal.result()).turnIds.length, 1);
    assert.equal(await thread.getGoal(), null);
  });
});

test("steering repeatedly while turns roll over never surfaces a rollover error", { timeout: 120_000 }, () => {
  let calls = 0;
  // Each model call takes a moment. From the 8th call on the model asks to complete the goal,
  // and once that tool call is answered it finishes.
  const fallback = (body) => {
    calls += 1;
    const answered = (body.input ?? []).some((i) => i.type === "function_call" && i.name === "update_goal");
    const events = answered ? reply("Finished.") : calls >= 8 ? goalStatus("complete") : reply(`Progress ${calls}.`);
    return [events[0], delay(30), ...events.slice(1)];
  };
  return withCodex([], async ({ codex }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("iterate");
    const accepted = [];
    let active = true;
    // A goal update with the goal still active closes a physical turn: steer right then, when the
    // server is rolling over to the continuation.
    for await (const e of goal) {
      if (e.method !== "thread/goal/updated") continue;
      if (e.params.goal.status !== "active") active = false;
      if (!active) continue;
      const text = `nudge ${accepted.length}`;
      try {
        await goal.steer(text);
        accepted.push(text);
      } catch (err) {
        assert.equal(err.code, "ERR_NO_ACTIVE_TURN", `a steer failed with ${err}`);
      }
    }
    const r = await goal.result();
    assert.equal(r.status, "completed");
    assert.equal(r.goal.status, "complete");
    assert.ok(r.turnIds.length >= 3, `turns rolled over (${r.turnIds.length})`);
    assert.ok(accepted.length >= 2, `steers landed (${accepted.length})`);
    const inputs = r.items.filter((i) => i.type === "userMessage").map((i) => i.content[0].text);
    assert.deepEqual(inputs, accepted, "every accepted steer became input of the run, in order");
  }, { model: { fallback } });
});

test("a busy thread, an empty objective and an ephemeral thread are refused", T, () => {
  const g = gate();
  return withCodex([held("busy", g)], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("first");
    await model.waitForRequests(1);
    await assert.rejects(thread.turn("plain"), { code: "ERR_THREAD_BUSY" });
    await assert.rejects(thread.goal("second"), { code: "ERR_THREAD_BUSY" });
    await assert.rejects(thread.goal("   "), TypeError);
    await assert.rejects(thread.goal(""), TypeError);
    await goal.cancel();
    g.release();
    await goal.result();
    const ephemeral = await codex.startThread({ ephemeral: true });
    const err = await ephemeral.goal("x").catch((e) => e);
    assert.ok(err instanceof CodexError);
    assert.equal(err.code, "ERR_EPHEMERAL_THREAD");
  });
});

test("several goals on several threads of one client run at once", T, () => {
  // Answers by what the conversation holds, so concurrent threads each get a whole run.
  const fallback = (body) => {
    const items = body.input ?? [];
    if (items.some((i) => i.type === "function_call" && i.name === "update_goal")) return reply("Done here.");
    if (items.some((i) => i.role === "assistant" && JSON.stringify(i.content).includes("Step one done."))) return goalStatus("complete");
    return reply("Step one done.");
  };
  return withCodex([], async ({ codex }) => {
    const threads = await Promise.all([1, 2, 3].map(() => codex.startThread()));
    const goals = await Promise.all(threads.map((t, i) => t.goal(`job ${i}`)));
    const streams = await Promise.all(goals.map((g) => collect(g)));
    const results = await Promise.all(goals.map((g) => g.result()));
    results.forEach((r, i) => {
      assertOneLogicalTurn(streams[i], goals[i]);
      assert.equal(r.threadId, threads[i].id);
      assert.equal(r.status, "completed");
      assert.equal(r.goal.status, "complete");
      assert.equal(r.goal.objective, `job ${i}`);
      assert.equal(r.turnIds.length, 2);
      assert.equal(r.finalResponse, "Done here.");
    });
    assert.equal(new Set(results.flatMap((r) => r.turnIds)).size, 6, "no turn was routed to two goals");
  }, { model: { fallback } });
});

test("breaking out of the stream stops that iteration only; the goal goes on", T, () =>
  withCodex([reply("Step one done."), goalStatus("complete"), reply("All done.")], async ({ codex }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("job");
    for await (const e of goal) if (e.method === "turn/started") break;
    const r = await goal.result();
    assert.equal(r.status, "completed");
    assert.equal(r.turnIds.length, 2);
  }));

test("killing the app-server mid-goal rejects within two seconds with TransportClosedError", T, () => {
  const g = gate();
  return withCodex([reply("Step one done."), held("step two", g)], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("job");
    const events = goal[Symbol.asyncIterator]();
    await model.waitForRequests(2);
    const t0 = Date.now();
    process.kill(codex.pid, "SIGKILL");
    const err = await goal.result().catch((e) => e);
    assert.ok(err instanceof TransportClosedError, String(err));
    assert.equal(err.signal, "SIGKILL");
    assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
    await assert.rejects(async () => { while (!(await events.next()).done); }, TransportClosedError);
    g.release();
  });
});

// ---- parity with the Python SDK's goal suite ----

test("a goal that completes inside its first turn is one physical turn", T, () =>
  withCodex([goalStatus("complete", usage(20)), reply("Done in one.", usage(20))], async ({ codex }) => {
    const thread = await codex.startThread();
    const goal = await thread.goal("quick job");
    const events = await collect(goal);
    assertOneLogicalTurn(events, goal);
    const r = await goal.result();
    assert.equal(r.status, "completed");
    assert.deepEqual(r.turnIds, [goal.id]);
    assert.equal(r.goal.status, "complete");
    assert.equal(r.finalResponse, "Done in one.");
    assert.equal(r.usage.totalTokens, 40);
  }));

test("a new goal replaces the stored one: fresh objective, budget and accounting", T, () =>
  withCodex([reply("Progress.", usage(25)), reply("More progress.", usage(25)), reply("New job done.", usage(15)), goalStatus("complete", usage(15)), reply("Finished.", usage(15))], async ({ codex }) => {
    const thread = await codex.startThread();
    const old = await thread.runGoal("old objective", { tokenBudget: 40 });
    assert.equal(old.goal.status, "budgetLimited");
    assert.equal((await thread.getGoal()).tokensUsed, 50);
    const r = await thread.runGoal("new objective");
    assert.equal(r.goal.objective, "new objective");
    assert.equal(r.goal.status, "complete");
    assert.equal(r.goal.tokenBudget, null, "the old budget did not carry over");
    // Fresh accounting: only this run's tokens (the server stops counting once the goal is complete,
    // so the answer after the update_goal call is in the usage but not in the goal).
    assert.equal(r.usage.totalTokens, 45);
    assert.ok(r.goal.tokensUsed > 0 && r.goal.tokensUsed <= r.usage.totalTokens, `tokensUsed ${r.goal.tokensUsed}, not the old goal's 50 carried on`);
    assert.notEqual(r.id, old.id);
  }));

test("goals disabled by config: goal() rejects with the server's reason and a hint, and nothing runs", T, () =>
  withCodex([], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const err = await thread.goal("anything").catch((e) => e);
    assert.ok(err instanceof CodexError && err.code === "ERR_RPC", String(err));
    assert.equal(err.method, "thread/goal/clear");
    assert.match(err.message, /goals feature is disabled.*features\.goals = false/);
    assert.equal(model.requests.length, 0);
    assert.equal((await thread.run("a plain turn still works")).status, "completed");
  }, { config: { "features.goals": false } }));
