// A process that starts a goal on a running app-server and then waits to be killed: the test kills
// it with SIGKILL mid-goal and attaches to the goal from elsewhere. argv: url, token.
import { Codex } from "../../index.mjs";

const [url, token] = process.argv.slice(2);
const codex = await Codex.connect({ url, token });
const thread = await codex.startThread();
const goal = await thread.goal("outlive the process that started it");
process.stdout.write(`${JSON.stringify({ threadId: thread.id, goalId: goal.id })}\n`);
setInterval(() => {}, 1_000);
