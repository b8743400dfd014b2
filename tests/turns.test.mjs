// Plain turns on the real app-server: run, stream, steer, interrupt, failure, abort, approvals.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CodexError, TurnFailedError } from "../index.mjs";
import { collect, withCodex } from "./support/harness.mjs";
import { failure, functionCall, gate, reply } from "./support/mock-model.mjs";

const T = { timeout: 60_000 };

test("run() returns the aggregated result of a real turn", T, () =>
  withCodex([reply("The answer is 42.", { usage: { input_tokens: 120, output_tokens: 8, total_tokens: 128 } })], async ({ codex }) => {
    const thread = await codex.startThread();
    const result = await thread.run("What is the answer?");
    assert.equal(result.status, "completed");
    assert.equal(result.threadId, thread.id);
    assert.equal(result.finalResponse, "The answer is 42.");
    assert.deepEqual(result.turnIds, [result.id]);
    assert.equal(result.goal, null);
    assert.equal(result.error, null);
    assert.deepEqual(result.items.map((i) => i.type), ["userMessage", "agentMessage"]);
    assert.equal(result.items[0].content[0].text, "What is the answer?");
    assert.equal(result.usage.totalTokens, 128);
    assert.equal(result.usage.inputTokens, 120);
    assert.equal(typeof result.startedAt, "number");
    assert.ok(result.completedAt >= result.startedAt);
    assert.equal(typeof result.durationMs, "number");
  }));

test("usage sums every model response of the turn, not the thread's running total", T, () =>
  withCodex(
    [
      reply("first", { usage: { input_tokens: 10, output_tokens: 1, total_tokens: 11 } }),
      reply([functionCall("update_plan", { plan: [{ step: "x", status: "completed" }] })], { usage: { input_tokens: 20, output_tokens: 2, total_tokens: 22 } }),
      reply("second", { usage: { input_tokens: 30, output_tokens: 3, total_tokens: 33 } }),
    ],
    async ({ codex }) => {
      const thread = await codex.startThread();
      const one = await thread.run("one");
      assert.equal(one.usage.totalTokens, 11);
      const two = await thread.run("two");
      assert.equal(two.usage.totalTokens, 55, "two model responses in the second turn: 22 + 33");
      assert.equal(two.finalResponse, "second");
    },
  ));

test("the stream runs from turn/started to turn/completed with every delta of this turn", T, () =>
  withCodex([reply("streamed text in several chunks")], async ({ codex }) => {
    const thread = await codex.startThread();
    const turn = await thread.turn("go");
    const events = await collect(turn);
    assert.equal(events[0].method, "turn/started");
    assert.equal(events.at(-1).method, "turn/completed");
    assert.equal(events.filter((e) => e.method === "turn/started" || e.method === "turn/completed").length, 2);
    for (const e of events) {
      const id = e.params.turnId ?? e.params.turn?.id;
      assert.equal(id, turn.id, `${e.method} belongs to this turn`);
    }
    const text = events.filter((e) => e.method === "item/agentMessage/delta").map((e) => e.params.delta).join("");
    assert.equal(text, "streamed text in several chunks");
    const result = await turn.result();
    assert.equal(result.finalResponse, text);
    assert.equal(result.items.length, events.filter((e) => e.method === "item/completed").length);
  }));

test("result() settles after breaking out of the stream, and a later iteration is told the stream was given up", T, () =>
  withCodex([reply("abcdefghijklmnopqrstuvwxyz")], async ({ codex }) => {
    const thread = await codex.startThread();
    const turn = await thread.turn("go");
    for await (const e of turn) {
      if (e.method === "turn/started") break;
    }
    const result = await turn.result();
    assert.equal(result.finalResponse, "abcdefghijklmnopqrstuvwxyz");
    await assert.rejects(collect(turn), { code: "ERR_STREAM_CONSUMED" });
  }));

test("steer() adds input to the running turn", T, () => {
  const held = gate();
  return withCodex([[...reply("thinking...").slice(0, 2), held.event, ...reply("thinking...").slice(2)], reply("steered answer")], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const turn = await thread.turn("start something long");
    await model.waitForRequests(1);
    await turn.steer("also mention the weather");
    held.release();
    const result = await turn.result();
    assert.equal(result.status, "completed");
    assert.equal(result.finalResponse, "steered answer");
    assert.equal(model.requests.length, 2);
    assert.match(JSON.stringify(model.requests[1].input), /also mention the weather/);
    const userTexts = result.items.filter((i) => i.type === "userMessage").map((i) => i.content[0].text);
    assert.deepEqual(userTexts, ["start something long", "also mention the weather"]);
  });
});

test("interrupt() aborts the running turn and the result says interrupted", T, () => {
  const held = gate();
  return withCodex([[...reply("never finished").slice(0, 2), held.event]], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const turn = await thread.turn("work forever");
    await model.waitForRequests(1);
    await turn.interrupt();
    const result = await turn.result();
    assert.equal(result.status, "interrupted");
    await turn.interrupt(); // after the end: no effect, no error
    held.release();
    const next = await thread.run("and now?");
    assert.equal(next.status, "completed", "the thread is usable after an interrupt");
  });
});

test("aborting the signal after start interrupts; aborting before rejects AbortError without a turn", T, () => {
  const held = gate();
  return withCodex([[...reply("x").slice(0, 2), held.event]], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const ac = new AbortController();
    const turn = await thread.turn("long", { signal: ac.signal });
    await model.waitForRequests(1);
    ac.abort();
    assert.equal((await turn.result()).status, "interrupted");
    held.release();

    const pre = new AbortController();
    pre.abort();
    await assert.rejects(thread.turn("never", { signal: pre.signal }), { name: "AbortError" });
    const info = await thread.read({ includeTurns: true });
    assert.equal(info.turns.length, 1, "no second turn was started");
  });
});

test("a failed turn rejects with TurnFailedError carrying the result", T, () =>
  withCodex([failure("the model fell over")], async ({ codex }) => {
    const thread = await codex.startThread();
    const err = await thread.run("fail please").then(
      () => assert.fail("expected a failure"),
      (e) => e,
    );
    assert.ok(err instanceof TurnFailedError);
    assert.ok(err instanceof CodexError);
    assert.equal(err.code, "ERR_TURN_FAILED");
    assert.equal(err.result.status, "failed");
    assert.match(err.result.error.message, /the model fell over/);
    assert.equal(err.result.threadId, thread.id);
    // The thread is in systemError, and a new turn still starts from there.
    const again = await thread.run("try again");
    assert.equal(again.status, "completed");
  }));

test("a second turn on a busy thread rejects ERR_THREAD_BUSY", T, () => {
  const held = gate();
  return withCodex([[...reply("x").slice(0, 2), held.event, ...reply("x").slice(2)]], async ({ codex, model }) => {
    const thread = await codex.startThread();
    const turn = await thread.turn("first");
    await model.waitForRequests(1);
    await assert.rejects(thread.turn("second"), { code: "ERR_THREAD_BUSY" });
    held.release();
    assert.equal((await turn.result()).status, "completed");
  });
});

test("bad input is a TypeError before anything is sent", T, () =>
  withCodex([], async ({ codex, model }) => {
    const thread = await codex.startThread();
    await assert.rejects(thread.turn([]), TypeError);
    await assert.rejects(thread.turn({ type: "video", url: "x" }), /unknown type "video"/);
    await assert.rejects(thread.turn(42), TypeError);
    assert.equal(model.requests.length, 0);
  }));

test("approvals reach onServerRequest and its answer is applied", T, async () => {
  const requests = [];
  const escalate = functionCall("exec_command", { cmd: "touch /tmp/never-created-by-sdk-test", sandbox_permissions: "require_escalated", justification: "test" });
  await withCodex(
    [reply([escalate]), reply("ok, not running it")],
    async ({ codex }) => {
      const thread = await codex.startThread();
      const result = await thread.run("touch a file");
      assert.equal(requests.length, 1);
      assert.equal(requests[0].method, "item/commandExecution/requestApproval");
      assert.equal(requests[0].params.threadId, thread.id);
      assert.equal(requests[0].params.turnId, result.id);
      const exec = result.items.find((i) => i.type === "commandExecution");
      assert.equal(exec.status, "declined");
    },
    {
      config: { approval_policy: "on-request" },
      onServerRequest: (req, { signal }) => {
        assert.ok(signal instanceof AbortSignal);
        requests.push(req);
        return { decision: "decline" };
      },
    },
  );
});

test("without a handler, approvals are declined by default", T, () => {
  const escalate = functionCall("exec_command", { cmd: "touch /tmp/never-created-by-sdk-test", sandbox_permissions: "require_escalated", justification: "test" });
  return withCodex(
    [reply([escalate]), reply("declined then")],
    async ({ codex }) => {
      const thread = await codex.startThread();
      const result = await thread.run("touch a file");
      assert.equal(result.items.find((i) => i.type === "commandExecution").status, "declined");
    },
    { config: { approval_policy: "on-request" } },
  );
});

test("a handler that throws still produces an answer (an error), and the turn goes on", T, () => {
  const escalate = functionCall("exec_command", { cmd: "touch /tmp/never-created-by-sdk-test", sandbox_permissions: "require_escalated", justification: "test" });
  return withCodex(
    [reply([escalate]), reply("carried on")],
    async ({ codex }) => {
      const thread = await codex.startThread();
      const result = await thread.run("touch a file");
      assert.equal(result.finalResponse, "carried on");
      assert.notEqual(result.items.find((i) => i.type === "commandExecution")?.status, "completed");
    },
    {
      config: { approval_policy: "on-request" },
      onServerRequest: () => {
        throw new Error("handler exploded");
      },
    },
  );
});
