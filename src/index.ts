export { Codex } from "./codex";
export { Thread } from "./thread";
export { TurnHandle } from "./turn";
export { GoalHandle } from "./goal";
export { AbortError, CodexError, CodexRpcError, TransportClosedError, TimeoutError, TurnFailedError } from "./errors";
export type { ErrorCode } from "./errors";
export { resolveCodexPath } from "./binary";
export type * from "./types";
