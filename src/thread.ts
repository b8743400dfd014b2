import type { BindingCancel, BindingError, BindingTurn } from "../binding/index";
import type { Codex } from "./codex";
import { AbortError, abortError } from "./errors";
import { settle } from "./outcome";
import { GoalHandle } from "./goal";
import { binding } from "./native";
import { REQUEST_PARAMS } from "./protocol-params";
import { TurnHandle } from "./turn";
import type { AttachGoalOptions, GoalOptions, Input, ResumeGoalOptions, ThreadGoal, ThreadInfo, TurnOptions, TurnResult } from "./types";
import * as check from "./validate";

/** Options of `turn()`: the `turn/start` params of the pinned schema (less the two the SDK sets), and `signal`. */
const TURN_OPTIONS = [...REQUEST_PARAMS["turn/start"].filter((k) => k !== "threadId" && k !== "input"), "signal"];
const GOAL_OPTIONS = ["tokenBudget", "startTimeoutMs", "signal"];

/** A conversation on the app-server. Get one from `Codex.startThread`, `resumeThread` or `forkThread`. */
export class Thread {
  readonly id: string;
  readonly #codex: Codex;
  /** The model provider the server reported for it. Work for the model of an `openai` thread fails
   * at once (`ERR_AUTH`) without a signed-in account, rather than retrying a connection the server
   * cannot authenticate. */
  readonly #provider: string | null;

  /** @internal */
  constructor(codex: Codex, id: string, provider: string | null = null) {
    this.#codex = codex;
    this.id = id;
    this.#provider = provider;
  }

  /**
   * Starts a turn and resolves once the server accepted it; stream it or await `result()`.
   * Aborting `signal` before then rejects `AbortError` (a turn the server started anyway is
   * interrupted, and the thread's next turn waits for that); after, it interrupts the turn.
   */
  async turn(input: Input, options?: TurnOptions): Promise<TurnHandle> {
    const what = "turn";
    const { signal: rawSignal, ...params } = check.options(options, what, TURN_OPTIONS);
    const signal = check.signal(rawSignal, what);
    this.#codex._checkValues("turn/start", params, what);
    const body = check.json({ ...params, threadId: this.id, input: check.inputItems(input, what) }, "options", what);
    // Awaited only when there is something to check: the start below must not wait a tick for nothing.
    if (params.effort !== undefined && params.effort !== null) await this.#codex._checkEffort(params.effort, params.model, what);
    if (this.#provider === "openai") await this.#codex._checkSignedIn(what);
    const raw = await this.#start(signal, "turn/start", (cancel) => this.#codex._binding().startTurn(body, cancel));
    return this.#handed(new TurnHandle(raw, signal), signal, "turn/start");
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
  async goal(objective: string, options?: GoalOptions): Promise<GoalHandle> {
    const what = "goal";
    check.string(objective, "objective", what, { nonEmpty: false });
    const o = check.options(options, what, GOAL_OPTIONS);
    const tokenBudget = check.positiveInteger(o.tokenBudget, "tokenBudget", what);
    const startTimeoutMs = check.timeout(o.startTimeoutMs, "startTimeoutMs", what);
    const signal = check.signal(o.signal, what);
    if (this.#provider === "openai") await this.#codex._checkSignedIn(what);
    const raw = await this.#start(signal, "goal", (cancel) =>
      this.#codex._binding().startGoal(this.id, objective, tokenBudget ?? null, startTimeoutMs ?? null, cancel),
    );
    return this.#handed(new GoalHandle(raw, signal), signal, "goal");
  }

  /**
   * A handle on the thread's current goal run, whoever started it (another process, the TUI, this
   * program before it restarted): its stream goes on live from here; its `result()` holds every turn
   * of the run, those that ended before the attach too (from the thread's history). A goal no longer
   * active gives a handle already settled with its last run's result. Rejects `ERR_NO_GOAL` when
   * the thread has no goal.
   */
  async attachGoal(options?: AttachGoalOptions): Promise<GoalHandle> {
    const what = "attachGoal";
    const o = check.options(options, what, ["signal"]);
    const signal = check.signal(o.signal, what);
    const raw = await this.#start(signal, what, (cancel) => this.#codex._binding().attachGoal(this.id, cancel));
    if (signal?.aborted) throw abortError(signal, what);
    return new GoalHandle(raw);
  }

  /**
   * Sets a paused, blocked or budget-limited goal active again (with `tokenBudget` when given) and
   * resolves with the new run's handle once its first turn started. An active goal is attached to;
   * rejects `ERR_NO_GOAL` without a goal and `ERR_GOAL_COMPLETE` for a complete one.
   */
  async resumeGoal(options?: ResumeGoalOptions): Promise<GoalHandle> {
    const what = "resumeGoal";
    const o = check.options(options, what, ["tokenBudget", "startTimeoutMs", "signal"]);
    const tokenBudget = o.tokenBudget === null ? null : check.positiveInteger(o.tokenBudget, "tokenBudget", what);
    const startTimeoutMs = check.timeout(o.startTimeoutMs, "startTimeoutMs", what);
    const signal = check.signal(o.signal, what);
    const budget = tokenBudget === undefined ? null : JSON.stringify(tokenBudget);
    if (this.#provider === "openai") await this.#codex._checkSignedIn(what);
    const raw = await this.#start(signal, what, (cancel) =>
      this.#codex._binding().resumeGoal(this.id, budget, startTimeoutMs ?? null, cancel),
    );
    return this.#handed(new GoalHandle(raw, signal), signal, what);
  }

  /** Runs a native start that `signal` can abort at any point, rejecting `AbortError` when it did. */
  async #start(signal: AbortSignal | undefined, what: string, start: (cancel: BindingCancel) => Promise<BindingTurn | BindingError>): Promise<BindingTurn> {
    if (signal?.aborted) throw abortError(signal, what);
    const cancel = new binding.BindingCancel();
    const onAbort = () => cancel.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await settle(start(cancel));
    } catch (err) {
      throw signal?.aborted && err instanceof AbortError ? abortError(signal, what) : err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The handle of a started run, unless `signal` aborted after the native start resolved and
   * before this ran: then the run is stopped (the server confirms) and the call rejects. */
  async #handed<H extends TurnHandle>(handle: H, signal: AbortSignal | undefined, what: string): Promise<H> {
    if (!signal?.aborted) return handle;
    await handle.interrupt().catch(() => {});
    throw abortError(signal, what);
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

  read(options?: { includeTurns?: boolean }): Promise<ThreadInfo> {
    return this.#codex.readThread(this.id, options);
  }

  async setName(name: string): Promise<void> {
    check.string(name, "name", "setName", { nonEmpty: false });
    await this.#codex.request("thread/name/set", { threadId: this.id, name });
  }

  /** Starts compacting the thread's history. */
  async compact(): Promise<void> {
    await this.#codex.request("thread/compact/start", { threadId: this.id });
  }
}
