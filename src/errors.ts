// Error classes. The Rust core reports errors as data ({ code, message, ... }); these give them
// their JS shape, with a stable machine-readable `code` on every one.
import type { TurnResult } from "./types";

export class CodexError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
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
  readonly stderrTail: string;
  constructor(message: string, details: { exitCode?: number | null; signal?: string | null; stderrTail?: string }) {
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

interface NativeErrorData {
  code: string;
  message: string;
  method?: string;
  rpcCode?: number;
  data?: unknown;
  exitCode?: number | null;
  signal?: string | null;
  stderrTail?: string;
}

/** Turns an error thrown by the native binding into the matching error class. */
export function fromNative(err: unknown): Error {
  const raw = err instanceof Error ? err.message : String(err);
  let data: NativeErrorData | null = null;
  if (raw.startsWith("{")) {
    try {
      data = JSON.parse(raw) as NativeErrorData;
    } catch {
      data = null;
    }
  }
  if (!data || typeof data.code !== "string") {
    // An argument the binding itself rejected (wrong type and the like).
    return new CodexError(raw, "ERR_INVALID_ARGUMENT", { cause: err });
  }
  switch (data.code) {
    case "ERR_RPC":
      return new CodexRpcError(data.message, { rpcCode: data.rpcCode ?? 0, data: data.data, method: data.method ?? "" });
    case "ERR_TRANSPORT_CLOSED": {
      const tail = data.stderrTail ? `\n--- app-server stderr (tail) ---\n${lastLines(data.stderrTail, 20)}` : "";
      return new TransportClosedError(`${data.message}${data.method ? ` (during ${data.method})` : ""}${tail}`, data);
    }
    case "ERR_TIMEOUT":
      return new TimeoutError(data.message, data.method ?? null);
    case "ERR_INVALID_ARGUMENT":
      return invalidArgument(data.message);
    case "ERR_ABORTED":
      return new DOMException(data.message, "AbortError");
    default:
      return new CodexError(data.message, data.code);
  }
}

/** Awaits a native promise, translating its rejection. */
export async function native<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw fromNative(err);
  }
}

/** An argument mistake: a `TypeError` (or `RangeError`), as Node's own API throws, with the SDK's code. */
export function invalidArgument(message: string, Kind: TypeErrorConstructor | RangeErrorConstructor = TypeError): Error {
  const err = new Kind(message);
  Object.defineProperty(err, "code", { value: "ERR_INVALID_ARGUMENT", enumerable: true, configurable: true });
  return err;
}

export function abortError(signal: AbortSignal, what: string): Error {
  const err = new DOMException(`${what} was aborted`, "AbortError");
  Object.defineProperty(err, "cause", { value: signal.reason, configurable: true });
  return err;
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
