import { withSignal } from "./abort";
import type { BindingError } from "../binding/index";
import { settle } from "./outcome";

const BATCH = 512;

/**
 * @internal An async iterator over a native stream of notifications, pulled in batches: each batch crosses
 * the binding as one JSON array text and is built by one `JSON.parse`. `return()` (a `break` out
 * of `for await`) calls `stop` so nothing more is buffered.
 */
export function lineIterator<T>(
  next: (max: number) => Promise<string | null | undefined | BindingError>,
  stop: () => void,
  signal?: AbortSignal,
): AsyncIterableIterator<T> {
  let batch: T[] = [];
  let index = 0;
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      batch = [];
      stop();
    }
  };
  const fill = async (): Promise<boolean> => {
    const lines = await withSignal(settle(next(BATCH)), signal, "iteration");
    if (lines === null || lines === undefined) return false;
    batch = JSON.parse(lines) as T[];
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
