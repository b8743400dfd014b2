// Results of the native binding: a value, or an error as data (a `BindingError`), which becomes the
// matching error class here.
import type { BindingError } from "../binding/index";
import { AbortError, CodexError, CodexRpcError, describe, invalidArgument, TimeoutError, TransportClosedError, type ErrorCode } from "./errors";

/** @internal Turns an error the native core reported into the matching error class. */
export function fromBindingError(e: BindingError): Error {
  const method = e.method ?? null;
  switch (e.code) {
    case "ERR_RPC":
      return new CodexRpcError(e.message, { rpcCode: e.rpcCode ?? 0, data: e.data, method: method ?? "" });
    case "ERR_TRANSPORT_CLOSED": {
      const tail = e.stderrTail?.trim() ? `\n--- app-server stderr (last lines) ---\n${lastLines(e.stderrTail, 20)}` : "";
      return new TransportClosedError(`${e.message}${method ? ` (during ${method})` : ""}${tail}`, e);
    }
    case "ERR_TIMEOUT":
      return new TimeoutError(e.message, method);
    case "ERR_ABORTED":
      return new AbortError(e.message);
    case "ERR_INVALID_ARGUMENT":
      return invalidArgument(e.message);
    default:
      return new CodexError(e.message, e.code as ErrorCode);
  }
}

/** Whether a value the binding returned is an error: a plain object with a `code` (results are
 * strings, class instances, booleans, nothing, or a batch: a plain object without one). */
function isBindingError(value: unknown): value is BindingError {
  return (
    value !== null &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype &&
    typeof (value as { code?: unknown }).code === "string"
  );
}

/** @internal The value of a native result, or its error thrown as the matching class. */
export function unwrap<T>(outcome: T | BindingError): T {
  if (isBindingError(outcome)) throw fromBindingError(outcome);
  return outcome;
}

/** @internal Awaits a native call, throwing its error as the matching class. A throw from the binding itself
 * (which validated arguments make impossible) still gets a code. */
export async function settle<T>(call: Promise<T | BindingError>): Promise<T> {
  let outcome: T | BindingError;
  try {
    outcome = await call;
  } catch (err) {
    throw panicked(err);
  }
  return unwrap(outcome);
}

/** @internal `settle` for a synchronous native call. */
export function settleNow<T>(call: () => T | BindingError): T {
  let outcome: T | BindingError;
  try {
    outcome = call();
  } catch (err) {
    throw panicked(err);
  }
  return unwrap(outcome);
}

/** What the binding itself threw: a bug of ours. */
function panicked(err: unknown): CodexError {
  return new CodexError(`internal error in codex-app-server-sdk (please report it): ${describe(err)}`, "ERR_PANIC", { cause: err });
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
