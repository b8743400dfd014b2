// Runs in a worker thread: the addon loads there too, and drives its own app-server.
import { parentPort, workerData } from "node:worker_threads";
import { Codex } from "../../index.mjs";

const codex = await Codex.start({ env: workerData.env });
try {
  const thread = await codex.startThread();
  const result = await thread.run("from a worker");
  parentPort.postMessage({ finalResponse: result.finalResponse, pid: codex.pid });
} finally {
  await codex.close();
}
