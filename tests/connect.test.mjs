// Codex.connect(): the real app-server started by the test, listening on a WebSocket with a token or
// on a unix socket; the same API as a spawned one; refused and unreachable addresses; and a goal that
// keeps its one logical turn across a connection cut by a relay of the test's own.
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Codex, CodexError, TimeoutError, TransportClosedError } from "../index.mjs";
import { collect } from "./support/harness.mjs";
import { functionCall, gate, goalStatus, reply } from "./support/mock-model.mjs";
import { startRelay, startServer, startTlsProxy } from "./support/server.mjs";

const T = { timeout: 120_000 };
const held = (events, g) => [...events.slice(0, 2), g.event, ...events.slice(2)];

async function withServer(listen, script, fn, modelOptions) {
  const server = await startServer(listen, script, modelOptions);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

const connectTo = (server, extra = {}) => Codex.connect({ url: server.url, token: server.token, codexHome: server.home.dir, ...extra });

const described = {
  ws: "ws:// with a token",
  unix: "unix://PATH",
  "unix-default": "unix:// (the control socket of codexHome)",
  daemon: "unix:// to `codex app-server daemon start`",
};
for (const [listen, how] of Object.entries(described)) {
  test(`a turn and a goal over ${how}`, T, () =>
    withServer(listen, [reply(`hello over ${listen}`), reply("Step one done."), goalStatus("complete"), reply("All done.")], async (server) => {
      const codex = await connectTo(server);
      try {
        assert.equal(codex.pid, null, "not spawned by this client");
        assert.equal(codex.metadata.serverVersion, "0.169.0");
        const thread = await codex.startThread();
        const turn = await thread.turn("hi");
        const events = await collect(turn);
        assert.equal(events[0].method, "turn/started");
        assert.equal(events.at(-1).method, "turn/completed");
        assert.equal((await turn.result()).finalResponse, `hello over ${listen}`);
        const goal = await thread.runGoal("finish it");
        assert.equal(goal.status, "completed");
        assert.equal(goal.goal.status, "complete");
        assert.equal(goal.turnIds.length, 2);
        assert.equal(goal.finalResponse, "All done.");
      } finally {
        await codex.close();
      }
      assert.ok(server.alive(), "close() never stops a server this client did not spawn");
    }));
}

test("wss:// through a TLS proxy: the certificate is checked, and a private CA is trusted from NODE_EXTRA_CA_CERTS", T, () =>
  withServer("ws", [reply("hello over wss")], async (server) => {
    const proxy = await startTlsProxy(server.url, server.home.dir);
    try {
      // Not signed by a public root: refused, naming the address.
      const untrusted = await Codex.connect({ url: proxy.url, token: server.token }).catch((e) => e);
      assert.equal(untrusted.code, "ERR_CONNECT", String(untrusted));
      assert.match(untrusted.message, /TLS with wss:\/\/localhost:\d+ failed: invalid peer certificate: UnknownIssuer/);
      process.env.NODE_EXTRA_CA_CERTS = proxy.caFile;
      try {
        const codex = await Codex.connect({ url: proxy.url, token: server.token });
        try {
          const thread = await codex.startThread();
          assert.equal((await thread.run("hi")).finalResponse, "hello over wss");
        } finally {
          await codex.close();
        }
        process.env.NODE_EXTRA_CA_CERTS = path.join(server.home.dir, "token"); // not PEM
        const unusable = await Codex.connect({ url: proxy.url, token: server.token }).catch((e) => e);
        assert.equal(unusable.code, "ERR_CONNECT");
        assert.match(unusable.message, /NODE_EXTRA_CA_CERTS \(.*token\) cannot be used: it holds no certificate/);
      } finally {
        delete process.env.NODE_EXTRA_CA_CERTS;
      }
    } finally {
      await proxy.close();
    }
  }));

test("two clients on one server run goals at once with no cross-talk; one closing leaves the other served", T, () => {
  // Answers by what the conversation holds, so each thread gets a whole run whatever the order.
  const fallback = (body) => {
    const items = body.input ?? [];
    if (items.some((i) => i.type === "function_call" && i.name === "update_goal")) return reply("Done here.");
    if (items.some((i) => i.role === "assistant" && JSON.stringify(i.content).includes("Step one done."))) return goalStatus("complete");
    return reply("Step one done.");
  };
  return withServer("ws", [], async (server) => {
    const [a, b] = await Promise.all([connectTo(server), connectTo(server)]);
    try {
      const [ta, tb] = await Promise.all([a.startThread(), b.startThread()]);
      const [ga, gb] = await Promise.all([ta.goal("job a"), tb.goal("job b")]);
      const [ea, eb] = await Promise.all([collect(ga), collect(gb)]);
      const [ra, rb] = await Promise.all([ga.result(), gb.result()]);
      for (const [events, goal, r, thread, objective] of [[ea, ga, ra, ta, "job a"], [eb, gb, rb, tb, "job b"]]) {
        assert.equal(r.threadId, thread.id);
        assert.equal(r.goal.objective, objective);
        assert.equal(r.status, "completed");
        assert.equal(r.turnIds.length, 2);
        for (const e of events) {
          const t = e.params.threadId ?? e.params.thread?.id;
          if (t) assert.equal(t, thread.id, "only this client's thread on its stream");
          const id = e.params.turnId ?? e.params.turn?.id;
          if (id) assert.equal(id, goal.id);
        }
      }
      assert.equal(new Set([...ra.turnIds, ...rb.turnIds]).size, 4);
      await a.close();
      const after = await (await b.startThread()).run("still there?");
      assert.equal(after.status, "completed");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, { fallback });
});

test("a wrong or missing token is ERR_AUTH, nothing listening is ERR_CONNECT, no answer is ERR_TIMEOUT, all within seconds, and the token is never shown", T, () =>
  withServer("ws", [], async (server) => {
    for (const token of [undefined, "not-the-token"]) {
      const t0 = Date.now();
      const err = await Codex.connect({ url: server.url, token }).catch((e) => e);
      assert.ok(err instanceof CodexError, String(err));
      assert.equal(err.code, "ERR_AUTH");
      assert.match(err.message, /refused the connection: 401 Unauthorized/);
      assert.ok(Date.now() - t0 < 3_000);
      if (token) assert.ok(!err.message.includes(token) && !err.stack.includes(token), "the token is not in the error");
    }
    for (const url of ["ws://127.0.0.1:9", `unix://${server.home.dir}/nobody.sock`]) {
      const t0 = Date.now();
      const err = await Codex.connect({ url, token: "secret-never-shown" }).catch((e) => e);
      assert.equal(err.code, "ERR_CONNECT", String(err));
      assert.ok(err.message.includes(url.replace("unix://", "")), err.message);
      assert.ok(!err.message.includes("secret-never-shown"));
      assert.ok(Date.now() - t0 < 3_000);
    }
    const insecure = await Codex.connect({ url: "ws://192.0.2.1:4500", token: "x" }).catch((e) => e);
    assert.equal(insecure.code, "ERR_INVALID_ARGUMENT");
    assert.match(insecure.message, /plain ws:\/\/ to a host that is not loopback .* allowInsecure/);
    // A listener that accepts and never answers the upgrade (what a hung server or a black-holing
    // proxy looks like): the dial is bounded by connectTimeoutMs.
    const silent = net.createServer(() => {});
    await new Promise((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const t0 = Date.now();
      const slow = await Codex.connect({ url: `ws://127.0.0.1:${silent.address().port}`, connectTimeoutMs: 300 }).catch((e) => e);
      assert.equal(slow.code, "ERR_TIMEOUT", String(slow));
      assert.ok(slow instanceof TimeoutError);
      assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
    } finally {
      silent.close();
    }
    await assert.rejects(Codex.connect({ url: "http://127.0.0.1:1" }), { code: "ERR_INVALID_ARGUMENT" });
    await assert.rejects(Codex.connect({ url: server.url, reconect: false }), { code: "ERR_INVALID_ARGUMENT", message: /did you mean "reconnect"/ });
  }));

const tokens = (total) => ({ usage: { input_tokens: total - 5, output_tokens: 5, total_tokens: total } });

for (const gap of ["finishes while cut off", "finishes after the reconnection"]) {
  test(`a goal keeps its one logical turn across a cut connection and ${gap}; the result is complete and correct`, T, () => {
    const g = gate();
    const script = [reply("Step one done.", tokens(100)), held(goalStatus("complete", tokens(200)), g), reply("All done.", tokens(300))];
    return withServer("ws", script, async (server) => {
      const relay = await startRelay(server.url);
      const codex = await Codex.connect({ url: relay.url, token: server.token });
      const direct = await connectTo(server); // a second client, to watch the server while the first is cut off
      try {
        const thread = await codex.startThread();
        const goal = await thread.goal("survive the cut");
        const events = [];
        let seen = () => {};
        const stream = (async () => {
          for await (const e of goal) {
            events.push(e);
            seen();
          }
        })();
        const until = (done) => new Promise((resolve) => (seen = () => done() && resolve())());
        await server.model.waitForRequests(2); // the continuation's model call is held open
        relay.refuse(true);
        relay.cut();
        const pending = codex.request("thread/read", { threadId: thread.id }).catch((e) => e);
        const t0 = Date.now();
        if (gap === "finishes while cut off") {
          g.release();
          // While cut off, the server finishes the goal: the model answers, the turn ends.
          await server.model.waitForRequests(3);
          for (let i = 0; i < 200 && (await direct.readThread(thread.id)).status.type === "active"; i++) await sleep(25);
          relay.refuse(false);
        } else {
          relay.refuse(false);
          // Resumed: the server sends a resumed thread its latest usage again (not to be counted twice).
          await until(() => events.filter((e) => e.method === "thread/tokenUsage/updated").length === 2);
          g.release();
        }
        const r = await goal.result();
        const ms = Date.now() - t0;
        await stream;
        // A request made while cut off waits for the connection and is answered; one the cut caught
        // in flight may or may not have reached the server, so it is rejected, not retried.
        const inFlight = await pending;
        assert.ok(inFlight instanceof TransportClosedError || inFlight.thread, String(inFlight));
        if (inFlight instanceof TransportClosedError) assert.match(inFlight.message, /dropped .* may or may not have acted/);
        assert.equal(r.status, "completed");
        assert.equal(r.goal.status, "complete");
        assert.equal(r.turnIds.length, 2);
        assert.deepEqual(r.items.filter((i) => i.type === "agentMessage").map((i) => i.text), ["Step one done.", "All done."]);
        assert.equal(r.usage.totalTokens, 600, "every model response counted once, those of the gap too");
        assert.equal(events.filter((e) => e.method === "turn/started").length, 1, "no duplicate turn/started");
        assert.equal(events.filter((e) => e.method === "turn/completed").length, 1, "no duplicate turn/completed");
        assert.equal(events.at(-1).method, "turn/completed");
        for (const e of events) {
          const id = e.params.turnId ?? e.params.turn?.id;
          if (id) assert.equal(id, goal.id);
        }
        const deltas = events.filter((e) => e.method === "item/agentMessage/delta").map((e) => e.params.delta).join("");
        const messages = events.filter((e) => e.method === "item/completed" && e.params.item.type === "agentMessage").length;
        if (gap === "finishes after the reconnection") assert.equal(deltas, "Step one done.All done.", "nothing missed when nothing happened in the gap");
        console.log(
          `${gap}: result settled ${ms} ms after the relay took connections again; ${relay.accepted} connections; ` +
            `stream had ${JSON.stringify(deltas)} as deltas and ${messages}/2 agentMessage items`,
        );
        // The connection is usable again.
        assert.equal((await thread.read()).id, thread.id);
      } finally {
        await codex.close();
        await direct.close();
        await relay.close();
      }
    });
  });
}

test("an approval asked on a connection that drops is withdrawn from its handler, asked again on the new one, and that answer applies", T, () => {
  const escalate = functionCall("exec_command", { cmd: "touch /tmp/never-created-by-sdk-test", sandbox_permissions: "require_escalated", justification: "test" });
  return withServer("ws", [reply([escalate]), reply("ok, not running it")], async (server) => {
    const relay = await startRelay(server.url);
    const asked = [];
    let withdrawn;
    const codex = await Codex.connect({
      url: relay.url,
      token: server.token,
      onServerRequest: async (request, { signal }) => {
        asked.push(request);
        if (asked.length === 1) {
          relay.cut();
          withdrawn = await new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason)));
          return { decision: "accept" }; // too late: must reach neither connection
        }
        return { decision: "decline" };
      },
    });
    try {
      const thread = await codex.startThread({ approvalPolicy: "on-request" });
      const r = await thread.run("touch a file");
      assert.equal(withdrawn.code, "ERR_REQUEST_RESOLVED");
      assert.match(withdrawn.message, /connection it was asked on dropped/);
      assert.deepEqual(asked.map((a) => a.method), ["item/commandExecution/requestApproval", "item/commandExecution/requestApproval"]);
      assert.equal(r.status, "completed");
      assert.equal(r.finalResponse, "ok, not running it");
      assert.match(JSON.stringify(server.model.requests[1]), /rejected by user/, "the second answer (decline) is the one applied");
    } finally {
      await codex.close();
      await relay.close();
    }
  });
});

test("when reconnecting gives up, everything pending rejects TransportClosedError", T, () => {
  const g = gate();
  return withServer("ws", [held(reply("never finishes"), g)], async (server) => {
    const relay = await startRelay(server.url);
    const codex = await Codex.connect({ url: relay.url, token: server.token, reconnect: { attempts: 2, maxDelayMs: 50 } });
    try {
      const turn = await (await codex.startThread()).turn("long");
      await server.model.waitForRequests(1);
      await relay.close();
      const t0 = Date.now();
      const err = await turn.result().catch((e) => e);
      assert.ok(err instanceof TransportClosedError, String(err));
      assert.match(err.message, /reconnecting gave up after 2 attempts/);
      assert.ok(Date.now() - t0 < 5_000, `gave up in ${Date.now() - t0} ms`);
      await assert.rejects(codex.request("thread/list", {}), TransportClosedError);
      assert.ok(server.alive());
    } finally {
      g.release();
      await codex.close();
    }
  });
});

test("with reconnect: false a drop ends the client at once", T, () =>
  withServer("ws", [], async (server) => {
    const relay = await startRelay(server.url);
    const codex = await Codex.connect({ url: relay.url, token: server.token, reconnect: false });
    const notifications = codex.notifications();
    const next = notifications.next();
    relay.cut();
    const err = await next.catch((e) => e);
    assert.ok(err instanceof TransportClosedError, String(err));
    assert.match(err.message, /dropped/);
    await codex.close();
    await relay.close();
  }));
