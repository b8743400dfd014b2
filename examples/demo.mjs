#!/usr/bin/env node
// `npm run demo`: the real Codex app-server, driven by this SDK, on a bundled scripted model —
// offline, no account needed. It runs a goal whose run spans continuation turns, printing the one
// logical stream as it happens and the aggregated result at the end.
//   npm run demo -- --turn   a single plain turn instead
//   npm run demo -- --live   your own Codex login and config instead of the scripted model
//   npm run demo -- --connect <url> [--token-file PATH]
//                            an app-server already running (ws://, wss://, unix://PATH, unix://),
//                            on whatever model that server is configured with
import fs from "node:fs";
import { parseArgs } from "node:util";
import { Codex, TurnFailedError } from "../index.mjs";
import { makeCodexHome } from "../tests/support/codex-home.mjs";
import { delay, goalStatus, reply, startMockModel } from "../tests/support/mock-model.mjs";

let args;
try {
  ({ values: args } = parseArgs({
    options: { live: { type: "boolean" }, turn: { type: "boolean" }, connect: { type: "string" }, "token-file": { type: "string" } },
  }));
} catch (err) {
  console.error(`${err.message}\nusage: npm run demo -- [--turn] [--live | --connect <url> [--token-file PATH]]`);
  process.exit(2);
}
const connect = args.connect;
const live = args.live || connect !== undefined;
const plain = args.turn ?? false;
const tty = process.stdout.isTTY;
const dim = (s) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const usage = (total) => ({ usage: { input_tokens: total - 40, output_tokens: 40, total_tokens: total } });
/** A scripted answer that takes a moment, like a real model thinking (timed from its request). */
const slow = (events) => () => [events[0], delay(150), ...events.slice(1)];

const objective = "Write a haiku about Rust, check its syllables, then finish.";
const prompt = "In two sentences: what does a goal-aware SDK give an app?";

let model = null;
let home = null;
const options = {};
if (!live) {
  model = await startMockModel(
    plain
      ? [slow(reply("It lets an app treat a goal's many turns as one: one id, one stream, one result, with steering and cancellation that survive the turns rolling over.", usage(1240)))]
      : [
          slow(reply("Draft: \"Borrowed, never lost / lifetimes fold like paper cranes / the compiler smiles\".", usage(1800))),
          slow(reply("Checking syllables: 5 / 7 / 5 — the haiku scans. One more pass for the final answer.", usage(2100))),
          slow(goalStatus("complete", usage(2300))),
          slow(reply("Done: \"Borrowed, never lost / lifetimes fold like paper cranes / the compiler smiles\".", usage(2400))),
        ],
  );
  home = makeCodexHome(model.url);
  options.env = home.env;
}

let codex;
try {
  // The token is read from a file, as the server reads its own, so it stays out of shell history.
  const token = args["token-file"] === undefined ? undefined : fs.readFileSync(args["token-file"], "utf8").trim();
  codex = connect === undefined ? await Codex.start(options) : await Codex.connect({ url: connect, token });
} catch (err) {
  console.error(`${err.code ?? "error"}: ${err.message}`);
  await model?.close();
  home?.cleanup();
  process.exit(1);
}
try {
  const where = connect === undefined ? `pid ${codex.pid}` : `connected to ${connect}`;
  console.log(dim(`codex app-server ${codex.metadata.serverVersion} (${where})${live ? "" : `, scripted model on ${model.url}`}`));
  if (live) {
    // Say so at once rather than letting the model call wait for a login that is not there.
    const { account, requiresOpenaiAuth } = await codex.account();
    if (requiresOpenaiAuth && !account) {
      console.error(`Not logged in to Codex (CODEX_HOME=${codex.metadata.codexHome}): run \`codex login\`${connect === undefined ? ", or drop --live to use the bundled scripted model" : " where that server runs"}.`);
      process.exitCode = 1;
      throw null;
    }
  }
  const thread = await codex.startThread();
  console.log(dim(`thread ${thread.id}`));
  let handle;
  if (plain) {
    console.log(`${bold("you")}   ${prompt}`);
    handle = await thread.turn(prompt);
  } else {
    console.log(`${bold("goal")}  ${objective}`);
    handle = await thread.goal(objective);
  }
  let line = false;
  const say = (s) => {
    if (line) process.stdout.write("\n");
    line = false;
    console.log(s);
  };
  for await (const n of handle) {
    switch (n.method) {
      case "turn/started":
        say(dim(`[logical turn ${n.params.turn.id}]`));
        break;
      case "item/agentMessage/delta":
        if (!line) process.stdout.write(`${bold("codex")} `);
        line = true;
        process.stdout.write(n.params.delta);
        break;
      case "item/completed":
        if (n.params.item.type === "agentMessage") {
          if (line) process.stdout.write("\n");
          line = false;
        }
        break;
      case "error": {
        // The app-server retries a model it cannot reach, then waits for the network for as long as
        // it takes: report each retry, and give up once it is only waiting.
        const { message, additionalDetails } = n.params.error;
        say(dim(`  model: ${message}${additionalDetails ? ` (${additionalDetails.split(":")[0]})` : ""}`));
        if (/waiting for network/i.test(message)) {
          console.error(`Could not reach the model: ${additionalDetails ?? message}. Check your network and Codex configuration, or drop --live.`);
          await handle.interrupt().catch(() => {});
          process.exitCode = 1;
        }
        break;
      }
      case "thread/goal/updated":
        say(dim(`  goal ${n.params.goal.status} · ${n.params.goal.tokensUsed} tokens counted toward its budget · physical turn ${handle.turnIds.length}`));
        break;
      case "turn/completed":
        say(dim(`[logical turn ${n.params.turn.status}]`));
        break;
    }
  }
  const result = await handle.result();
  if (process.exitCode) throw null;
  console.log(bold("\nresult"));
  console.log(`  status         ${result.status}`);
  console.log(`  logical id     ${result.id}`);
  console.log(`  physical turns ${result.turnIds.length} (${result.turnIds.map((t) => t.slice(-6)).join(", ")})`);
  if (result.goal) console.log(`  goal           ${result.goal.status} (it counted ${result.goal.tokensUsed} tokens toward its budget)`);
  console.log(`  items          ${result.items.length}`);
  console.log(`  usage          ${result.usage?.totalTokens ?? 0} tokens used by the run's model calls (input ${result.usage?.inputTokens ?? 0}, output ${result.usage?.outputTokens ?? 0})`);
  console.log(`  duration       ${result.durationMs} ms`);
  console.log(`  final response ${result.finalResponse}`);
} catch (err) {
  if (err instanceof TurnFailedError) console.error("failed:", err.result.error?.message);
  else if (err !== null) console.error(err);
  process.exitCode = 1;
} finally {
  await codex.close();
  await model?.close();
  home?.cleanup();
}
