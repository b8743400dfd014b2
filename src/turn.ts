import { CodexError, TurnFailedError } from "./errors";
import { settle } from "./outcome";
import { lineIterator } from "./iterate";
import * as check from "./validate";
import type { BindingTurn } from "../binding/index";
import type { Input, Notification, TurnResult } from "./types";

/** Parses a native result and applies the contract: a failed turn rejects with its result. */
export function settleResult(json: string): TurnResult {
  const result = JSON.parse(json) as TurnResult;
  if (result.status === "failed") throw new TurnFailedError(result);
  return result;
}

/** One running turn: its notifications from `turn/started` to `turn/completed`, and its result.
 * Aborting the `signal` it was started with interrupts it. */
export class TurnHandle implements AsyncIterable<Notification> {
  readonly id: string;
  readonly threadId: string;
  /** @internal */
  protected readonly _turn: BindingTurn;
  #iterated = false;
  #resultAsked = false;
  #outcome: Promise<TurnResult> | null = null;

  /** @internal */
  constructor(turn: BindingTurn, signal?: AbortSignal) {
    this._turn = turn;
    this.id = turn.id;
    this.threadId = turn.threadId;
    if (signal) {
      const onAbort = () => this.interrupt().catch(() => {});
      signal.addEventListener("abort", onAbort, { once: true });
      const off = () => signal.removeEventListener("abort", onAbort);
      this.#settled().then(off, off);
    }
  }

  /** This turn's notifications. The stream has one reader: a second loop over it throws
   * `ERR_STREAM_CONSUMED` (it would otherwise get an arbitrary share of them), and so does a loop
   * after one broke out (which gave the stream up: the turn goes on, and `result()` still settles).
   * For a second view of the same events, use `codex.notifications()`. */
  [Symbol.asyncIterator](): AsyncIterator<Notification> {
    if (this.#iterated) {
      throw new CodexError(
        `turn ${this.id}: its stream has one reader, and a loop has already taken it (a loop that broke out gave it up for good); ` +
          "read codex.notifications() for a second view, or result() for the outcome",
        "ERR_STREAM_CONSUMED",
      );
    }
    this.#iterated = true;
    return lineIterator<Notification>((max) => this._turn.now(max), (max) => this._turn.next(max), () => this._turn.stopStreaming());
  }

  /** Adds input to the running turn. */
  async steer(input: Input): Promise<void> {
    const body = check.json(check.inputItems(input, "steer"), "input", "steer");
    await settle(this._turn.steer(body));
  }

  /** Interrupts the turn; resolves once the server has aborted it. After the turn ended: no effect. */
  async interrupt(): Promise<void> {
    await settle(this._turn.interrupt());
  }

  /** The aggregated result; rejects `TurnFailedError` when the turn failed. */
  result(): Promise<TurnResult> {
    if (!this.#resultAsked) {
      this.#resultAsked = true;
      // Only the result is wanted, unless iteration begins in this same tick (`const r =
      // turn.result(); for await (...)`): then stop buffering the stream so memory stays flat.
      setImmediate(() => {
        if (!this.#iterated) this._turn.stopStreaming();
      });
    }
    return this.#settled();
  }

  #settled(): Promise<TurnResult> {
    if (!this.#outcome) {
      this.#outcome = settle(this._turn.result()).then(settleResult);
      this.#outcome.catch(() => {});
    }
    return this.#outcome;
  }
}
