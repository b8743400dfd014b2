// Starts the real pinned app-server on a private CODEX_HOME whose model is the scripted stand-in.
import { readFileSync } from "node:fs";
import { Codex } from "../../index.mjs";
import { makeCodexHome } from "./codex-home.mjs";
import { startMockModel } from "./mock-model.mjs";

/**
 * Runs `fn({ codex, model, home })` with a fresh app-server and model script, and cleans up after,
 * whatever happens. `options` go to `Codex.start` (merged over the isolating env).
 */
export async function withCodex(script, fn, options = {}) {
  const model = await startMockModel(script, options.model);
  const home = makeCodexHome(model.url, options.home);
  const { model: _m, home: _h, ...codexOptions } = options;
  let codex;
  try {
    codex = await Codex.start({ ...codexOptions, env: { ...home.env, ...codexOptions.env } });
    return await fn({ codex, model, home });
  } finally {
    await codex?.close();
    await model.close();
    home.cleanup();
  }
}

/** Whether a process with this pid is still alive (and not a zombie). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) Z /.test(stat);
  } catch {
    return true;
  }
}

/** Collects a turn's (or any iterator's) notifications. */
export async function collect(iterable) {
  const out = [];
  for await (const n of iterable) out.push(n);
  return out;
}

/** Resolves with the next value of `iterator` that matches, leaving the iterator open. */
export async function first(iterator, predicate) {
  for (;;) {
    const { done, value } = await iterator.next();
    if (done) throw new Error("stream ended before a matching notification");
    if (predicate(value)) return value;
  }
}

/** What the server itself recorded as the usage of these turns: the sum of its per-response records
 * in the thread's rollout file (`thread.path`). The SDK's `usage` must equal it. */
export function recordedUsage(path, turnIds) {
  const turns = new Set(turnIds);
  let total = 0;
  let input = 0;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.includes('"token_usage_record"')) continue;
    const { type, payload } = JSON.parse(line);
    if (type !== "token_usage_record" || !turns.has(payload.turn_id)) continue;
    total += payload.usage.total_tokens;
    input += payload.usage.input_tokens;
  }
  return { totalTokens: total, inputTokens: input };
}
