// Types of `codex-app-server-sdk/wasm`: the native SDK's engine compiled to WebAssembly, for
// browsers, Electron renderers and workers. Objects are freed with `free()` or `using`.
/// <reference lib="esnext.disposable" />
// Plain data types only: nothing here needs Node's or the DOM's globals.
import type { Notification, TurnResult } from "../dist/messages";

export type { Notification, TurnResult };

/** A message as received: a parsed JSON-RPC object, or one JSON line. */
export type IncomingMessage = object | string;

/** Follows one goal run as one logical turn. Feed it every notification of one thread, in order. */
export declare class GoalAggregator implements Disposable {
  constructor(threadId: string);
  /** Returns the logical notifications this message yields (often none, e.g. a hidden rollover).
   * Requests and responses are skipped; anything that is not a JSON-RPC message throws. */
  push(message: IncomingMessage): Notification[];
  /** The run is over: `result()` is available. */
  readonly done: boolean;
  /** The first physical turn's id, once it started. */
  readonly logicalTurnId: string | null;
  /** The physical turn to steer or interrupt now, or null between turns. */
  readonly currentTurnId: string | null;
  /** Throws until `done`. A failed run is returned (status "failed"), not thrown. */
  result(): TurnResult;
  free(): void;
  [Symbol.dispose](): void;
}

/** Follows one plain turn. Feed it every notification of its thread, in order. */
export declare class TurnAggregator implements Disposable {
  constructor(threadId: string, turnId: string);
  push(message: IncomingMessage): Notification[];
  readonly done: boolean;
  result(): TurnResult;
  free(): void;
  [Symbol.dispose](): void;
}

export type DecodedMessage =
  | { kind: "request"; id: string | number; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "response"; id: string | number; result: unknown }
  | { kind: "error"; id: string | number | null; error: { code: number; message: string; data?: unknown } };

/** Classifies one JSON line; throws on anything that is not a JSON-RPC message. */
export declare function decodeMessage(line: string): DecodedMessage;
/** A request as one JSON line (no newline), without the `"jsonrpc"` field, as the app-server speaks. */
export declare function encodeRequest(id: string | number, method: string, params?: unknown): string;
/** The turn named by a steer or interrupt error ("... but found X"), to retry with. */
export declare function activeTurnIdFromError(message: string): string | null;
