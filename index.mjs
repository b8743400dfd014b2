// ESM entry: the same instances as the CommonJS build, so `instanceof` agrees across both.
import { createRequire } from "node:module";

const sdk = createRequire(import.meta.url)("./dist/index.js");

export const { Codex, Thread, TurnHandle, GoalHandle, AbortError, CodexError, CodexRpcError, TransportClosedError, TimeoutError, TurnFailedError, resolveCodexPath } = sdk;
export default sdk;
