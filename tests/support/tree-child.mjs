// Run as a child process by the supervision suite: starts a client whose model runs tools that
// escape the app-server's process group, prints the app-server's pid, then ends as argv[2] says:
// "return" (the event loop runs dry, without close()) or "exit" (process.exit() without close()).
import { Codex } from "../../index.mjs";

const codex = await Codex.start({ env: JSON.parse(process.env.TEST_CODEX_ENV) });
const thread = await codex.startThread({ sandbox: "danger-full-access" });
const result = await thread.run("start things");
process.stdout.write(JSON.stringify({ pid: codex.pid, status: result.status }) + "\n");
if (process.argv[2] === "exit") process.exit(0);
