// Run as a child process by the reliability suite: starts a client on the real app-server, runs a
// turn, prints the app-server's pid, and ends WITHOUT calling close(). The process must exit by
// itself, and the app-server must go with it.
import { Codex } from "../../index.mjs";

const codex = await Codex.start({
  env: JSON.parse(process.env.TEST_CODEX_ENV),
  onServerRequest: () => null, // a registered handler must not keep the process alive either
});
const thread = await codex.startThread();
const result = await thread.run("hi");
process.stdout.write(JSON.stringify({ pid: codex.pid, status: result.status }) + "\n");
