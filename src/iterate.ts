import { withSignal } from "./abort";
import type { BindingError } from "../binding/index";
import { settle } from "./outcome";

/** Notifications per batch at most; a batch holds what is waiting, so a live stream is not delayed. */
const BATCH = 1024;

/**
 * @internal An async iterator over a native stream of notifications, pulled in batches: each batch crosses
 * the binding as one JSON array text and is built by one `JSON.parse`. The next batch is asked for
 * before the current one is parsed, so the native side assembles it while JS works. `return()` (a
 * `break` out of `for await`) calls `stop` so nothing more is buffered.
 */
export function lineIterator<T>(
  next: (max: number) => Promise<string | null | undefined | BindingError>,
  stop: () => void,
  signal?: AbortSignal,
): AsyncIterableIterator<T> {
  let batch: T[] = [];
  let index = 0;
  let done = false;
  let ahead: Promise<string | null | undefined> | null = null;
  const ask = () => {
    const p = settle(next(BATCH));
    p.catch(() => {}); // surfaces when awaited, in order
    return p;
  };
  const finish = () => {
    if (!done) {
      done = true;
      batch = [];
      stop();
    }
  };
  const fill = async (): Promise<boolean> => {
    const lines = await withSignal(ahead ?? ask(), signal, "iteration");
    ahead = null;
    if (lines === null || lines === undefined) return false;
    if (!done) ahead = ask();
    batch = parseBatch(lines) as T[];
    index = 0;
    return true;
  };
  const refill = async (): Promise<IteratorResult<T>> => {
    try {
      if (!(await fill())) {
        finish();
        return { done: true, value: undefined };
      }
    } catch (err) {
      finish();
      throw err;
    }
    return { done: false, value: batch[index++] };
  };
  return {
    // Not `async`: while a batch lasts, each item is one already-resolved promise, not two.
    next(): Promise<IteratorResult<T>> {
      if (done) return Promise.resolve({ done: true, value: undefined });
      if (index < batch.length) return Promise.resolve({ done: false, value: batch[index++] });
      return refill();
    },
    async return(): Promise<IteratorResult<T>> {
      finish();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** A batch from the binding (`[line\n,line\n,…]`). When a line in it is not JSON (the native reader
 * routes on a scan that does not validate what it skips), the others still arrive, and that one
 * becomes an `sdk/warning`, as any other line the app-server garbles does. */
function parseBatch(text: string): unknown[] {
  try {
    return JSON.parse(text) as unknown[];
  } catch {
    return text
      .slice(1, -1)
      .split("\n,")
      .map((line) => {
        try {
          return JSON.parse(line);
        } catch (err) {
          const message = `ignored a line from the app-server: not JSON: ${err instanceof Error ? err.message : String(err)}`;
          return { method: "sdk/warning", params: { message, line: line.length > 512 ? `${line.slice(0, 512)}…` : line } };
        }
      });
  }
}
