import { withSignal } from "./abort";
import { native } from "./errors";

const BATCH = 512;

/**
 * An async iterator over a native stream of raw JSON lines, pulled in batches (one crossing of
 * the binding per batch) and parsed one at a time as the consumer asks (objects nobody reads are
 * never built). `return()` (a `break` out of `for await`) calls `stop` so nothing more is buffered.
 */
export function lineIterator<T>(
  next: (max: number) => Promise<string[] | null>,
  stop: () => void,
  signal?: AbortSignal,
): AsyncIterableIterator<T> {
  let batch: string[] = [];
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
    const lines = await withSignal(native(next(BATCH)), signal, "iteration");
    if (lines === null) return false;
    batch = lines;
    index = 0;
    return true;
  };
  return {
    async next(): Promise<IteratorResult<T>> {
      if (done) return { done: true, value: undefined };
      try {
        if (index >= batch.length && !(await fill())) {
          finish();
          return { done: true, value: undefined };
        }
      } catch (err) {
        finish();
        throw err;
      }
      return { done: false, value: JSON.parse(batch[index++]) as T };
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
