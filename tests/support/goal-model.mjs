// A scripted model for goal runs that must survive anything happening to the client's connection:
// it answers by what the conversation holds, not by the order of requests, so each thread gets a
// whole run (steps, then `update_goal complete`, then a final answer) however many threads share it.
import { delay, goalStatus, reply } from "./mock-model.mjs";

/** `turns` physical turns per run; each response waits `wait()` ms and costs its own token count. */
export function goalModel({ turns = 4, wait = () => 50 } = {}) {
  return (body) => {
    const input = body?.input ?? [];
    const finished = input.some((i) => i.type === "function_call" && i.name === "update_goal");
    const steps = input.filter((i) => i.role === "assistant").length;
    const usage = { usage: { input_tokens: 90 + 3 * steps, output_tokens: 7 + steps, total_tokens: 97 + 4 * steps } };
    const events = finished ? reply("All done.", usage) : steps + 1 < turns ? reply(`Step ${steps + 1}.`, usage) : goalStatus("complete", usage);
    return [events[0], delay(wait()), ...events.slice(1)];
  };
}

/** A small seeded generator (mulberry32), so a failing trial can be run again. */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
