// Runs under Wine, in Node for Windows, in an app that installed the packed package: loads the
// native addon through the package's own loader, starts an app-server (the real codex.exe when it
// can run, else the replay fake named by PROOF_CODEX_PATH), runs a turn and a goal, has the server
// start a grandchild (the fake only), closes, and reports as JSON into PROOF_LOG (Wine cannot hand
// a Linux pipe to a Windows process as its stdout).
import fs from "node:fs";

const report = { platform: `${process.platform}-${process.arch}`, node: process.version };
const exists = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
try {
  const { Codex, resolveCodexPath } = await import("codex-app-server-sdk");
  report.loaded = true;
  const codexPath = process.env.PROOF_CODEX_PATH || resolveCodexPath();
  report.codexPath = codexPath;
  const codex = await Codex.start({ codexPath, env: JSON.parse(process.env.PROOF_ENV ?? "{}") });
  report.server = { pid: codex.pid, version: codex.metadata.serverVersion, platform: codex.metadata.platformOs };
  const thread = await codex.startThread();
  const turn = await thread.run("hello");
  report.turn = { status: turn.status, finalResponse: turn.finalResponse, usage: turn.usage?.totalTokens ?? null };
  const goal = await thread.runGoal("finish it");
  report.goal = { status: goal.status, goal: goal.goal?.status, turns: goal.turnIds.length, finalResponse: goal.finalResponse };
  if (process.env.PROOF_CODEX_PATH) report.grandchild = (await codex.request("spawn")).pid;
  const t0 = Date.now();
  await codex.close();
  report.closeMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  report.aliveAfterClose = { server: exists(report.server.pid), grandchild: report.grandchild ? exists(report.grandchild) : null };
} catch (err) {
  report.error = { code: err?.code ?? null, message: String(err?.message ?? err), stack: String(err?.stack ?? "") };
}
fs.writeFileSync(process.env.PROOF_LOG, JSON.stringify(report, null, 2));
