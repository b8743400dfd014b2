// The public API of `codex-app-server-sdk/wasm`, over the raw wasm-bindgen exports of crates/wasm.
// Compiled twice (CommonJS into dist/wasm/ for Node, ES module into wasm/web/ for browsers), so it
// imports nothing. Every argument is checked here and every object becomes JSON text here, before
// anything enters the wasm module: a cycle, a BigInt, a throwing getter or a wrong type is a thrown
// TypeError, and the module is never left mid-call (no trap, no borrow left held).

/** @internal The raw exports of the wasm module. */
export interface RawModule {
  RawAggregator: {
    goal(threadId: string): RawAggregator;
    turn(threadId: string, turnId: string): RawAggregator;
  };
  decodeMessage(line: string): string;
  encodeRequest(id: string, method: string, params?: string | null): string;
  activeTurnIdFromError(message: string): string | undefined;
}

interface RawAggregator {
  push(line: string): string;
  done(): boolean;
  logical_turn_id(): string | undefined;
  current_turn_id(): string | undefined;
  result(): string;
  free(): void;
}

function invalid(message: string): TypeError {
  const err = new TypeError(message);
  Object.defineProperty(err, "code", { value: "ERR_INVALID_ARGUMENT", enumerable: true, configurable: true });
  return err;
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string") throw invalid(`${name} must be a string, got ${value === null ? "null" : typeof value}`);
  return value;
}

/** JSON text of an object, or why it has none (a cycle, a BigInt, a throwing getter or toJSON). */
function json(value: unknown, name: string): string {
  let out: string | undefined;
  try {
    out = JSON.stringify(value);
  } catch (err) {
    throw invalid(`${name} cannot be read as JSON: ${err instanceof Error ? err.message : "it threw while being read"}`);
  }
  if (out === undefined) throw invalid(`${name} cannot be read as JSON`);
  return out;
}

/** @internal Builds the public classes and functions over a loaded wasm module. */
export function wrap(raw: RawModule) {
  const dispose = (Symbol as { dispose?: symbol }).dispose;

  class Aggregator {
    #raw: RawAggregator | null;

    protected constructor(inner: RawAggregator) {
      this.#raw = inner;
    }

    protected get raw(): RawAggregator {
      if (!this.#raw) throw new Error("this aggregator was freed");
      return this.#raw;
    }

    /** Takes one message (a parsed object or one JSON line); returns the logical notifications it yields. */
    push(message: unknown): unknown[] {
      let line: string;
      if (typeof message === "string") line = message;
      else if (message !== null && typeof message === "object" && !Array.isArray(message)) line = json(message, "push: the message");
      else throw invalid(`push: a message must be an object or a JSON line, got ${message === null ? "null" : Array.isArray(message) ? "an array" : typeof message}`);
      return JSON.parse(this.raw.push(line));
    }

    get done(): boolean {
      return this.raw.done();
    }

    /** The aggregated result; throws until `done`. A failed run is returned (status "failed"), not thrown. */
    result(): unknown {
      return JSON.parse(this.raw.result());
    }

    free(): void {
      this.#raw?.free();
      this.#raw = null;
    }
  }
  if (dispose) (Aggregator.prototype as unknown as Record<symbol, () => void>)[dispose] = Aggregator.prototype.free;

  class GoalAggregator extends Aggregator {
    constructor(threadId: string) {
      super(raw.RawAggregator.goal(text(threadId, "GoalAggregator: threadId")));
    }

    /** The first physical turn's id, once it started. */
    get logicalTurnId(): string | null {
      return this.raw.logical_turn_id() ?? null;
    }

    /** The physical turn to steer or interrupt now, or null between turns. */
    get currentTurnId(): string | null {
      return this.raw.current_turn_id() ?? null;
    }
  }

  class TurnAggregator extends Aggregator {
    constructor(threadId: string, turnId: string) {
      super(raw.RawAggregator.turn(text(threadId, "TurnAggregator: threadId"), text(turnId, "TurnAggregator: turnId")));
    }
  }

  return {
    GoalAggregator,
    TurnAggregator,
    decodeMessage(line: string): unknown {
      return JSON.parse(raw.decodeMessage(text(line, "decodeMessage: line")));
    },
    encodeRequest(id: string | number, method: string, params?: unknown): string {
      if (typeof id !== "string" && !Number.isSafeInteger(id)) throw invalid("encodeRequest: id must be a string or an integer");
      text(method, "encodeRequest: method");
      return raw.encodeRequest(JSON.stringify(id), method, params === undefined || params === null ? null : json(params, "encodeRequest: params"));
    },
    activeTurnIdFromError(message: string): string | null {
      return raw.activeTurnIdFromError(text(message, "activeTurnIdFromError: message")) ?? null;
    },
  };
}
