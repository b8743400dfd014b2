import { withSignal } from "./abort";
import type { Codex } from "./codex";
import { abortError, native } from "./errors";
import { toInputItems } from "./input";
import type { BindingTurn } from "./native";
import { TurnHandle } from "./turn";
import type { Input, ThreadGoal, ThreadInfo, TurnOptions, TurnResult } from "./types";

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
