// Types of what the SDK hands out (notifications, requests, results): plain data with no Node or
// DOM globals, shared by the native client and the wasm build. Protocol shapes come from
// protocol.d.ts, generated from the pinned app-server's schema.
import type * as P from "../protocol";

export type ThreadGoal = P.ThreadGoal;
export type ThreadItem = P.ThreadItem;
export type TurnError = P.TurnError;
export type TokenUsageBreakdown = P.TokenUsageBreakdown;
export type ServerNotificationMap = P.ServerNotificationMap;
export type ServerRequestMap = P.ServerRequestMap;

/** Reported by the SDK itself, e.g. for a non-JSON line the app-server printed on stdout. */
export interface SdkWarningNotification {
  method: "sdk/warning";
  params: { message: string; line?: string };
}

/** A notification, its `params` typed by its `method`. Methods newer than the pinned schema still
 * arrive (cast to `UntypedNotification` to read them). */
export type Notification =
  | { [M in keyof ServerNotificationMap]: { method: M; params: ServerNotificationMap[M] } }[keyof ServerNotificationMap]
  | SdkWarningNotification;
export interface UntypedNotification {
  method: string;
  params: any;
}

/** A request the app-server sends to the client, its `params` typed by its `method`. */
export type ServerRequest =
  | { [M in keyof ServerRequestMap]: { id: string | number; method: M; params: ServerRequestMap[M] } }[keyof ServerRequestMap];

export interface TurnResult {
  /** The logical id: for a goal, its first physical turn's id. */
  id: string;
  threadId: string;
  status: "completed" | "interrupted" | "failed";
  error: TurnError | null;
  /** First physical turn's start (unix seconds). */
  startedAt: number | null;
  /** Last physical turn's end (unix seconds). */
  completedAt: number | null;
  durationMs: number | null;
  finalResponse: string | null;
  /** Every completed item, in order, across all physical turns. */
  items: ThreadItem[];
  /** What this turn or goal itself spent, summed over its physical turns. */
  usage: TokenUsageBreakdown | null;
  /** Physical turns, in order (one for a plain turn). */
  turnIds: string[];
  /** Final goal snapshot; null for a plain turn. */
  goal: ThreadGoal | null;
}
