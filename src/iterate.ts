import { withSignal } from "./abort";
import { abortError } from "./errors";
import type { BindingBatch, BindingError } from "../binding/index";
import { binding } from "./native";
import { settle, settleNow } from "./outcome";

/** Notifications per batch at most; a batch holds what is waiting, so a live stream is not delayed. */
const BATCH = 1024;

/**
 * @internal An async iterator over a native stream of notifications, pulled in batches: each batch crosses
 * the binding as the fields of its deltas plus one JSON array text of its other lines (see `build`).
 * What the native reader queued while JS worked is taken at once (`now`, no hop between threads);
 * only when nothing is waiting does `next` wait for it. `return()` (a `break` out of `for await`)
 * calls `stop` so nothing more is buffered.
 */
export function lineIterator<T>(
  now: (max: number) => BindingBatch | boolean | BindingError,
  next: (max: number) => Promise<BindingBatch | null | undefined | BindingError>,
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
    if (signal?.aborted) throw abortError(signal, "iteration");
    let got = settleNow(() => now(BATCH));
    if (got === false) got = (await withSignal(settle(next(BATCH)), signal, "iteration")) ?? true;
    if (got === true) return false;
    batch = build(got) as T[];
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

/** How the binding lays a batch out (crates/protocol/src/hot.rs, crates/client/src/split.rs): a
 * line's kind is 0 for one in `cold`, else 1 + its method's place in the table. */
const { methods, indexFields, stride: STRIDE } = binding.hotLayout();
const HOT = ["", ...methods];
const FIELD = ["", ...indexFields];
const NO_COLD: unknown[] = [];

/**
 * The notifications of a batch, in order. A delta is built from its fields as `JSON.parse` would
 * build its line: the same keys in the same order (an object literal per shape, so each shape keeps
 * one hidden class), the text a slice of the batch's decoded texts, the ids shared strings. Each
 * other line is the next element of the batch's JSON array text.
 */
function build({ cold, text, layout, ids }: BindingBatch): unknown[] {
  const others = cold === "" ? NO_COLD : parseBatch(cold);
  const n = layout.length / STRIDE;
  const out = new Array<unknown>(n);
  for (let i = 0, k = 0, c = 0; i < n; i++, k += STRIDE) {
    const kind = layout[k];
    if (kind === 0) {
      out[i] = others[c++];
      continue;
    }
    const threadId = ids[layout[k + 1]];
    const turnId = ids[layout[k + 2]];
    const itemId = ids[layout[k + 3]];
    const delta = text.slice(layout[k + 4], layout[k + 5]);
    const field = FIELD[kind];
    const params =
      field === ""
        ? { threadId, turnId, itemId, delta }
        : field === "contentIndex"
          ? { threadId, turnId, itemId, delta, contentIndex: layout[k + 6] }
          : field === "summaryIndex"
            ? { threadId, turnId, itemId, delta, summaryIndex: layout[k + 6] }
            : { threadId, turnId, itemId, delta, [field]: layout[k + 6] };
    const emittedAtMs = layout[k + 7];
    out[i] = emittedAtMs < 0 ? { method: HOT[kind], params } : { method: HOT[kind], params, emittedAtMs };
  }
  return out;
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
