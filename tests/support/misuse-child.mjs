// Runs one misuse case (tests/support/misuse-cases.mjs) in this process and prints what came of it
// as one JSON line: how the call ended, and any unhandled rejection or uncaught exception seen.
import { Codex } from "../../index.mjs";
import { makeCodexHome } from "./codex-home.mjs";
import { alive } from "./harness.mjs";
import { cases, fake } from "./misuse-cases.mjs";
import { startMockModel } from "./mock-model.mjs";

const stray = [];
process.on("unhandledRejection", (e) => stray.push(`unhandled rejection: ${e?.stack ?? String(e)}`));
process.on("uncaughtException", (e) => stray.push(`uncaught exception: ${e?.stack ?? String(e)}`));

const c = cases[process.argv[2]];
const ctx = { Codex, alive };
const cleanup = [];
try {
  if (c.setup !== "none") {
    const script = Array.isArray(c.model) ? c.model : [];
    const model = await startMockModel(script, Array.isArray(c.model) ? undefined : c.model);
    const home = makeCodexHome(model.url);
    cleanup.push(() => model.close(), () => home.cleanup());
    const env = { ...home.env, ...c.env };
    ctx.model = model;
    ctx.codex = await Codex.start({ ...(c.setup === "fake" ? { codexPath: fake } : {}), ...c.options, env });
    cleanup.unshift(() => ctx.codex.close());
    if (c.setup === "thread") ctx.thread = await ctx.codex.startThread();
  }
} catch (err) {
  console.log(JSON.stringify({ outcome: "setup failed", message: String(err?.stack ?? err) }));
  process.exit(1);
}

let report;
try {
  const value = await c.run(ctx);
  report = { outcome: "resolved", value: value === undefined ? null : JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? String(v) : v))) };
} catch (err) {
  report = { outcome: "rejected", kind: err?.constructor?.name, name: err?.name, code: err?.code, message: String(err?.message) };
}
for (const f of cleanup) await f();
// Let late rejections surface before reporting.
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ ...report, stray }));
