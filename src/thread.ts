import { withSignal } from "./abort";
import type { Codex } from "./codex";
import { abortError, invalidArgument, native } from "./errors";
import { toInputItems } from "./input";
import { GoalHandle } from "./goal";
import type { BindingTurn } from "../binding/index";
import { binding } from "./native";
import { TurnHandle } from "./turn";
import type { GoalOptions, Input, ThreadGoal, ThreadInfo, TurnOptions, TurnResult } from "./types";

/** A conversation on the app-server. Get one from `Codex.startThread`, `resumeThread` or `forkThread`. */
export class Thread {
  readonly id: string;
  readonly #codex: Codex;

  /** @internal */
  constructor(codex: Codex, id: string) {
    this.#codex = codex;
    this.id = id;
  }

  /** Starts a turn and resolves once the server accepted it; stream it or await `result()`. */
  async turn(input: Input, options: TurnOptions = {}): Promise<TurnHandle> {
    const { signal, ...params } = options;
    const body = { ...params, threadId: this.id, input: toInputItems(input, "turn/start") };
    if (signal?.aborted) throw abortError(signal, "turn/start");
    const started = native(this.#codex._binding().startTurn(JSON.stringify(body)));
    return new TurnHandle(await interruptIfStartedLate(started, signal), signal);
  }

  /** Runs a turn to its end. Rejects `TurnFailedError` (carrying the result) when it failed. */
  async run(input: Input, options: TurnOptions = {}): Promise<TurnResult> {
    const turn = await this.turn(input, options);
    return turn.result();
  }

  /**
   * Starts a goal: clears the thread's stored goal, sets this one active, and resolves once the
   * server's first goal turn has started (within `startTimeoutMs`; on timeout or abort the goal is
   * paused, whatever started is interrupted, and this rejects).
   */
  async goal(objective: string, options: GoalOptions = {}): Promise<GoalHandle> {
    if (typeof objective !== "string") throw invalidArgument(`goal: objective must be a string, got ${typeof objective}`);
    const { tokenBudget, startTimeoutMs = 30_000, signal } = options;
    if (tokenBudget !== undefined && (!Number.isSafeInteger(tokenBudget) || tokenBudget <= 0)) {
      throw new TypeError(`goal: tokenBudget must be a positive integer, got ${tokenBudget}`);
    }
    if (!(startTimeoutMs > 0)) throw new TypeError(`goal: startTimeoutMs must be positive, got ${startTimeoutMs}`);
    if (signal?.aborted) throw abortError(signal, "goal");
    const cancel = new binding.BindingCancel();
    const onAbort = () => cancel.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const run = await native(this.#codex._binding().startGoal(this.id, objective, tokenBudget ?? null, startTimeoutMs, cancel));
      return new GoalHandle(run, signal);
    } catch (err) {
      throw signal?.aborted && (err as Error)?.name === "AbortError" ? abortError(signal, "goal") : err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Runs a goal to its end. Rejects `TurnFailedError` (carrying the result) when it failed. */
  async runGoal(objective: string, options: GoalOptions = {}): Promise<TurnResult> {
    const goal = await this.goal(objective, options);
    return goal.result();
  }

  async getGoal(): Promise<ThreadGoal | null> {
    const r = await this.#codex.request("thread/goal/get", { threadId: this.id });
    return r.goal ?? null;
  }

  /** Pauses the goal: the running turn finishes, and no continuation follows. */
  async pauseGoal(): Promise<ThreadGoal> {
    const r = await this.#codex.request("thread/goal/set", { threadId: this.id, status: "paused" });
    return r.goal;
  }

  /** Removes the goal; resolves whether there was one. */
  async clearGoal(): Promise<boolean> {
    const r = await this.#codex.request("thread/goal/clear", { threadId: this.id });
    return r.cleared;
  }

  read(options: { includeTurns?: boolean } = {}): Promise<ThreadInfo> {
    return this.#codex.readThread(this.id, options);
  }

  async setName(name: string): Promise<void> {
    if (typeof name !== "string") throw new TypeError("setName: name must be a string");
    await this.#codex.request("thread/name/set", { threadId: this.id, name });
  }

  /** Starts compacting the thread's history. */
  async compact(): Promise<void> {
    await this.#codex.request("thread/compact/start", { threadId: this.id });
  }
}

/** Aborting while `turn/start` is in flight: once the turn exists, interrupt it, then reject. */
async function interruptIfStartedLate(started: Promise<BindingTurn>, signal: AbortSignal | undefined): Promise<BindingTurn> {
  if (!signal) return started;
  try {
    return await withSignal(started, signal, "turn/start");
  } catch (err) {
    if (signal.aborted) started.then((t) => t.interrupt()).catch(() => {});
    throw err;
  }
}
