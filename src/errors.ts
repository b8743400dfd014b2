// Error classes. The Rust core reports errors as data (a `BindingError`: a stable `code` plus the
// fields that code has); these give them their JS shape. Every error the SDK throws or rejects with
// has a `code` from `ErrorCode`.
import type { TurnResult } from "./types";

/** Every code an SDK error can carry; each is documented in the README's error table. */
export type ErrorCode =
  | "ERR_INVALID_ARGUMENT"
  | "ERR_RPC"
  | "ERR_TRANSPORT_CLOSED"
  | "ERR_TIMEOUT"
  | "ERR_TURN_FAILED"
  | "ERR_THREAD_BUSY"
  | "ERR_EPHEMERAL_THREAD"
  | "ERR_NO_ACTIVE_TURN"
  | "ERR_SPAWN"
  | "ERR_AUTH"
  | "ERR_CONNECT"
  | "ERR_NATIVE_BINDING"
  | "ERR_MODEL_UNREACHABLE"
  | "ERR_NO_GOAL"
  | "ERR_GOAL_COMPLETE"
  | "ERR_PROTOCOL"
  | "ERR_LOGIN_FAILED"
  | "ERR_LOGIN_CANCELLED"
  | "ERR_REQUEST_RESOLVED"
  | "ERR_STREAM_CONSUMED"
  | "ERR_PANIC"
  | "ABORT_ERR";

export class CodexError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CodexError";
    this.code = code;
  }
}

/** The app-server answered a request with a JSON-RPC error. */
export class CodexRpcError extends CodexError {
  readonly rpcCode: number;
  readonly data: unknown;
  readonly method: string;
  constructor(message: string, details: { rpcCode: number; data?: unknown; method: string }) {
    super(message, "ERR_RPC");
    this.name = "CodexRpcError";
    this.rpcCode = details.rpcCode;
    this.data = details.data ?? null;
    this.method = details.method;
  }
}

/** The app-server exited, its pipes closed, or the client was closed. */
export class TransportClosedError extends CodexError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** What the app-server last wrote to stderr when it died or failed to start (empty after `close()`). */
  readonly stderrTail: string;
  constructor(message: string, details: { exitCode?: number | null; signal?: string | null; stderrTail?: string | null }) {
    super(message, "ERR_TRANSPORT_CLOSED");
    this.name = "TransportClosedError";
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail ?? "";
  }
}

/** A bounded wait ran out. */
export class TimeoutError extends CodexError {
  readonly method: string | null;
  constructor(message: string, method: string | null = null) {
    super(message, "ERR_TIMEOUT");
    this.name = "TimeoutError";
    this.method = method;
  }
}

/** The turn (or goal) ended `failed`; `result` holds everything it produced. */
export class TurnFailedError extends CodexError {
  readonly result: TurnResult;
  constructor(result: TurnResult) {
    super(`turn ${result.id} failed: ${result.error?.message ?? "unknown error"}`, "ERR_TURN_FAILED");
    this.name = "TurnFailedError";
    this.result = result;
  }
}

/** A call ended by its `AbortSignal`. `name` is "AbortError" and `code` "ABORT_ERR", as Node's own;
 * `cause` is the signal's reason. */
export class AbortError extends CodexError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "ABORT_ERR", options);
    this.name = "AbortError";
  }
}

/** An argument mistake: a `TypeError` (or `RangeError`), as Node's own API throws, with the SDK's code. */
export function invalidArgument(message: string, Kind: TypeErrorConstructor | RangeErrorConstructor = TypeError): Error & { code: "ERR_INVALID_ARGUMENT" } {
  const err = new Kind(message) as Error & { code: "ERR_INVALID_ARGUMENT" };
  Object.defineProperty(err, "code", { value: "ERR_INVALID_ARGUMENT", enumerable: true, configurable: true });
  return err;
}

export function abortError(signal: AbortSignal, what: string): AbortError {
  return new AbortError(`${what} was aborted`, { cause: signal.reason });
}

/** A thrown value as text, whatever it is (its `String()` may itself throw). */
export function describe(value: unknown): string {
  try {
    const text = value instanceof Error ? value.message : String(value);
    return (text as string & { toWellFormed(): string }).toWellFormed();
  } catch {
    return "a value that cannot be shown as text";
  }
}
