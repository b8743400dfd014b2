// Every misuse case in tests/support/misuse-cases.mjs, each in its own child process against the real
// app-server (or a fake, for faults the real one cannot show): the process must live, the call must
// end with the expected error (a code on every one), and nothing may be left unhandled.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { cases } from "./support/misuse-cases.mjs";

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), "support/misuse-child.mjs");
const tally = new Map();

function runCase(name) {
  return new Promise((resolve) => {
    execFile(process.execPath, [child, name], { timeout: 60_000, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      resolve({ exitCode: error?.code ?? 0, signal: error?.signal ?? null, stdout, stderr });
    });
  });
}

test("misuse of the public API ends in a clear error, never a crash, a hang or an unhandled rejection", { timeout: 600_000, concurrency: 4 }, async (t) => {
  const subtests = [];
  for (const [name, c] of Object.entries(cases)) {
    subtests.push(t.test(name, async () => {
      const run = await runCase(name);
      assert.equal(run.signal, null, `the child was killed (${run.signal}): a hang\n${run.stderr}`);
      assert.equal(run.exitCode, 0, `the child died (exit ${run.exitCode})\n${run.stderr}`);
      const report = JSON.parse(run.stdout.trim().split("\n").at(-1));
      assert.deepEqual(report.stray, [], "nothing unhandled");
      const ending = report.outcome === "rejected" ? `${report.code} (${report.kind})` : report.outcome;
      tally.set(ending, (tally.get(ending) ?? 0) + 1);
      if (c.check) {
        assert.ok(c.check(report), JSON.stringify(report));
        return;
      }
      assert.equal(report.outcome, "rejected", JSON.stringify(report));
      assert.equal(report.code, c.expect.code, report.message);
      if (c.expect.kind) assert.equal(report.kind, c.expect.kind, report.message);
      if (c.expect.message) assert.match(report.message, c.expect.message);
    }));
  }
  await Promise.all(subtests);
});

test("misuse summary", () => {
  const total = [...tally.values()].reduce((a, b) => a + b, 0);
  console.log(`${total} misuse cases: ${[...tally].map(([k, v]) => `${v} ${k}`).join(", ")}`);
  assert.equal(total, Object.keys(cases).length);
});
