// The public API of `codex-app-server-sdk/wasm`, over the raw wasm-bindgen exports of crates/wasm.
// Compiled twice (CommonJS into dist/wasm/ for Node, ES module into wasm/web/ for browsers), so it
// imports nothing. Each message is parsed once, here; the engine gets the ids it routes on (or the
// text of the few methods whose params it reads) and answers with decisions, which this layer
// applies to the objects it already has. Every argument is checked before anything enters the
// module: a cycle, a BigInt, a throwing getter or a wrong type is a thrown TypeError, and the module
// is never left mid-call (no trap, no borrow left held).

/** @internal The raw exports of the wasm module. */
export interface RawModule {
  RawAggregator: {
    goal(threadId: string): RawAggregator;
    turn(threadId: string, turnId: string): RawAggregator;
  };
  readsParams(method: string): boolean;
  decodeMessage(line: string): string;
  hotMethods(): string;
  encodeRequest(id: string, method: string, params?: string | null): string;
  activeTurnIdFromError(message: string): string | undefined;
}

interface RawAggregator {
  intern(s: string): number;
  push_ids(seq: number, method: number, threadId: number, turnId: number): number;
  push_line(seq: number, line: string): number;
  take(): string;
  done(): boolean;
  logical_turn_id(): string | undefined;
  active_turn_id(): string | undefined;
  result(): string;
  free(): void;
}

// The engine's answers (crates/wasm): the common cases come back from `push_*` as a code.
const DROPPED = 0;
const PASS = 1;
const RELABEL = 2;
const HELD = 3;
const COMPLETED = 5;
const REUSABLE = 0x100;

interface Message {
  method?: unknown;
  id?: unknown;
  params?: Record<string, unknown> | null;
}

/** A message this layer owns (parsed from a line) may be relabelled in place; a caller's is copied. */
type Kept = [message: Message, owned: boolean];

/** A hot method's shape after its text: the index field it has (or null) and its line's tail
 * (`"`, the index, `}`, an optional `emittedAtMs`, `}`) in the numbers' forms that read back
 * exactly (no sign, fraction, exponent or leading zero; few enough digits). */
interface HotShape {
  index: "contentIndex" | "summaryIndex" | null;
  tail: RegExp;
}

/** The last hot line read: its text up to the delta's, the fields that text holds, and the
 * engine's reusable answer it shares (`key` is `#reuseText` as it was; a new question retires it). */
interface Slot {
  prefix: string;
  method: string;
  threadId: string;
  turnId: string;
  itemId: string;
  shape: HotShape;
  key: readonly [string, string, string];
}

/** What a JSON string holds as is: no quote, backslash or control character. */
const PLAIN = /^[^"\\\u0000-\u001f]*$/;
/** A character a delta's text needs decoding for, or that makes the line no JSON at all. */
const UNPLAIN = /[\\\u0000-\u001f]/;
/** The rest of a JSON string after its opening quote, up to and with the closing one. */
const STRING_REST = /(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;

/** `params.threadId`, or `params.thread.id`, as the protocol crate reads them ("" for none). */
function threadIdOf(p: Message["params"]): string {
  const t = p?.threadId;
  if (typeof t === "string") return t;
  const id = (p?.thread as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? id : "";
}

/** `params.turnId`, or `params.turn.id` ("" for none). */
function turnIdOf(p: Message["params"]): string {
  const t = p?.turnId;
  if (typeof t === "string") return t;
  const id = (p?.turn as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? id : "";
}

/** Every error this build throws has a stable `code`: ERR_INVALID_ARGUMENT for what it was given
 * (a wrong type is a TypeError), ERR_INVALID_STATE for a call the aggregator's state does not allow
 * (freed, or `result()` before `done`), ERR_PANIC for a bug of ours. */
type Code = "ERR_INVALID_ARGUMENT" | "ERR_INVALID_STATE" | "ERR_PANIC";

function coded<E extends Error>(err: E, code: Code): E & { code: Code } {
  Object.defineProperty(err, "code", { value: code, enumerable: true, configurable: true });
  return err as E & { code: Code };
}

function invalid(message: string): TypeError {
  return coded(new TypeError(message), "ERR_INVALID_ARGUMENT");
}

function failure(message: string, code: Code): Error {
  return coded(new Error(message), code);
}

/** A call into the module: an Error it throws (the engine's own reason, as a JsError) gets `code`. */
function entering<T>(call: () => T, code: Code): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof Error && !("code" in err)) coded(err, code);
    throw err;
  }
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

  // The hot methods as the engine knows them (crates/protocol/src/hot.rs), each with its tail.
  const at = String.raw`(?:,"emittedAtMs":(0|[1-9]\d{0,14}))?\}$`;
  const hot = new Map<string, HotShape>(
    (JSON.parse(raw.hotMethods()) as [string, HotShape["index"]][]).map(([method, index]) => [
      method,
      { index, tail: new RegExp(index === null ? String.raw`^"\}` + at : String.raw`^","${index}":(0|[1-9]\d{0,8})\}` + at) },
    ]),
  );

  const readsParams = new Map<string, boolean>();
  const reads = (method: string) => {
    let r = readsParams.get(method);
    if (r === undefined) readsParams.set(method, (r = raw.readsParams(method)));
    return r;
  };

  class Aggregator {
    #raw: RawAggregator | null;
    #seq = 0;
    #logical: string | null = null;
    /** Messages the engine holds (their turn has not started yet), by sequence number. */
    #held = new Map<number, Kept>();
    /** Strings the engine knows by number, so a delta crosses into the module as integers. */
    #interned = new Map<string, number>();

    /** The last string of each kind (method, thread, turn) and its number: a stream repeats them,
     * and comparing with the last is cheaper than hashing a fresh string for the map. */
    #lastText = ["", "", ""];
    #lastNumber = [0, 0, 0];

    #intern(s: string, kind: 0 | 1 | 2): number {
      if (s === this.#lastText[kind]) return this.#lastNumber[kind];
      let n = s === "" ? 0 : this.#interned.get(s);
      if (n === undefined) this.#interned.set(s, (n = this.raw.intern(s)));
      this.#lastText[kind] = s;
      this.#lastNumber[kind] = n;
      return n;
    }

    protected constructor(inner: RawAggregator) {
      this.#raw = inner;
    }

    protected get raw(): RawAggregator {
      if (!this.#raw) throw failure("this aggregator was freed", "ERR_INVALID_STATE");
      return this.#raw;
    }

    /** Takes one message (a parsed object or one JSON line); returns the logical notifications it yields. */
    push(message: unknown): unknown[] {
      try {
        return this.#push(message);
      } catch (err) {
        // What the caller's own object threw as it was read (a getter, a proxy) is about the message.
        if (err instanceof Error && !("code" in err)) throw invalid(`push: the message cannot be read: ${err.message}`);
        throw err;
      }
    }

    #push(message: unknown): unknown[] {
      if (!this.#raw) throw failure("this aggregator was freed", "ERR_INVALID_STATE");
      let msg: Message;
      let line: string | undefined;
      if (typeof message === "string") {
        const slot = this.#slot;
        if (slot !== null && this.#reuse >= 0 && slot.key === this.#reuseText) {
          const read = this.#read(message, slot);
          if (read !== undefined) return read;
        }
        line = message;
        try {
          msg = JSON.parse(message);
        } catch (err) {
          throw failure(`not JSON: ${err instanceof Error ? err.message : "unreadable"}`, "ERR_INVALID_ARGUMENT");
        }
        if (msg === null || typeof msg !== "object" || Array.isArray(msg)) throw failure("a message must be a JSON object", "ERR_INVALID_ARGUMENT");
      } else if (message !== null && typeof message === "object" && !Array.isArray(message)) {
        msg = message as Message;
      } else {
        throw invalid(`push: a message must be an object or a JSON line, got ${message === null ? "null" : Array.isArray(message) ? "an array" : typeof message}`);
      }
      const method = msg.method;
      if (typeof method !== "string") {
        if (method === undefined && msg.id !== undefined) return [];
        throw failure(method === undefined ? "not a JSON-RPC message: no `method` and no `id`" : "`method` must be a string", "ERR_INVALID_ARGUMENT");
      }
      // Requests and responses are not part of a turn's stream.
      if (msg.id !== undefined) return [];
      const owned = line !== undefined;
      const seq = this.#seq++;
      const params = msg.params;
      // The hot path of a delta stream: the same method, thread and turn as the push the engine
      // last answered for good, compared as the strings they are, with no call at all.
      const key = this.#reuseText;
      const code =
        this.#reuse >= 0 && method === key[0] && params?.threadId === key[1] && params?.turnId === key[2]
          ? this.#reuse
          : this.#decide(msg, method, params, line, seq);
      if (line !== undefined && this.#reuse >= 0) {
        const shape = hot.get(method);
        if (shape !== undefined) this.#remember(line, method, params, shape);
      }
      switch (code) {
        case DROPPED:
          return [];
        case PASS:
          return [msg];
        case RELABEL:
          return [this.#relabel(msg, owned)];
        case HELD:
          this.#held.set(seq, [msg, owned]);
          return [];
        default:
          return (JSON.parse(this.raw.take()) as [number, unknown][]).map(([kind, x]) => {
            if (kind === COMPLETED) return { method: "turn/completed", params: x };
            const kept: Kept | undefined = x === seq ? [msg, owned] : this.#held.get(x as number);
            this.#held.delete(x as number);
            if (!kept) throw failure(`internal error: the engine named a message it was not given (${x})`, "ERR_PANIC");
            return kind === RELABEL ? this.#relabel(kept[0], kept[1]) : kept[0];
          });
      }
    }

    /** Asks the engine about a message: by ids when it does not read the method's params, else
     * with the message's text. */
    #decide(msg: Message, method: string, params: Message["params"], line: string | undefined, seq: number): number {
      if (method !== this.#methodName) {
        this.#methodName = method;
        this.#methodNumber = this.#intern(method, 0);
        this.#methodRead = reads(method);
      }
      if (this.#methodRead) {
        this.#reuse = -1;
        const text = line ?? json(msg, "push: the message");
        return entering(() => this.raw.push_line(seq, text), "ERR_INVALID_ARGUMENT");
      }
      const threadText = threadIdOf(params);
      const turnText = turnIdOf(params);
      // The engine said its last answer holds for the same method, thread and turn until a push
      // it did not so mark: a stream of deltas is decided once, not once per delta.
      const key = this.#reuseText;
      if (this.#reuse >= 0 && method === key[0] && threadText === key[1] && turnText === key[2]) return this.#reuse;
      const code = this.raw.push_ids(seq, this.#methodNumber, this.#intern(threadText, 1), this.#intern(turnText, 2));
      this.#reuse = code & REUSABLE ? code & ~REUSABLE : -1;
      this.#reuseText = [method, threadText, turnText];
      return code & ~REUSABLE;
    }

    /** The last hot line read, whose prefix the next ones are compared with. */
    #slot: Slot | null = null;

    /** Keeps a hot line's text up to its delta's, when its ids are written as they are (so the
     * text is exactly the fields', and a line that starts with it holds the same ones). */
    #remember(line: string, method: string, params: Message["params"], shape: HotShape): void {
      const threadId = params?.threadId;
      const turnId = params?.turnId;
      const itemId = params?.itemId;
      if (typeof threadId !== "string" || typeof turnId !== "string" || typeof itemId !== "string") return;
      const slot = this.#slot;
      if (slot !== null && slot.key === this.#reuseText && slot.method === method && slot.threadId === threadId && slot.turnId === turnId && slot.itemId === itemId) return;
      if (!PLAIN.test(threadId) || !PLAIN.test(turnId) || !PLAIN.test(itemId)) return;
      const prefix = `{"method":"${method}","params":{"threadId":"${threadId}","turnId":"${turnId}","itemId":"${itemId}","delta":"`;
      if (line.slice(0, prefix.length) !== prefix) return;
      this.#slot = { prefix, method, threadId, turnId, itemId, shape, key: this.#reuseText };
    }

    /**
     * A line that starts as the last hot one did, read from slices instead of parsed: its text
     * (decoded by JSON.parse only when it has escapes) and its tail's numbers. The engine's answer
     * for that method, thread and turn holds, so no call is made either. `undefined`: anything
     * else, which takes the full parse (and its error, for a line that is not JSON).
     */
    #read(line: string, slot: Slot): unknown[] | undefined {
      const start = slot.prefix.length;
      if (line.slice(0, start) !== slot.prefix) return undefined;
      let end = line.indexOf('"', start);
      if (end < 0) return undefined;
      let delta = line.slice(start, end);
      if (UNPLAIN.test(delta)) {
        STRING_REST.lastIndex = start;
        if (!STRING_REST.test(line)) return undefined;
        end = STRING_REST.lastIndex - 1;
        delta = JSON.parse(line.slice(start - 1, end + 1)) as string;
      }
      const { index, tail } = slot.shape;
      let indexValue = 0;
      let emittedAtMs: string | undefined;
      // The common tail, `"}}` with nothing after, is checked without a slice.
      if (index !== null || line.length !== end + 3 || line.charCodeAt(end + 1) !== 125 || line.charCodeAt(end + 2) !== 125) {
        const m = tail.exec(line.slice(end));
        if (m === null) return undefined;
        if (index === null) emittedAtMs = m[1];
        else {
          indexValue = Number(m[1]);
          emittedAtMs = m[2];
        }
      }
      this.#seq++;
      const code = this.#reuse;
      if (code === DROPPED) return [];
      const { method, threadId, itemId } = slot;
      const turnId = code === RELABEL ? (this.#logical ??= this.raw.logical_turn_id() ?? null) : slot.turnId;
      // One literal per shape, keys in the line's order, as JSON.parse builds it.
      const params =
        index === "contentIndex"
          ? { threadId, turnId, itemId, delta, contentIndex: indexValue }
          : index === "summaryIndex"
            ? { threadId, turnId, itemId, delta, summaryIndex: indexValue }
            : { threadId, turnId, itemId, delta };
      return [emittedAtMs === undefined ? { method, params } : { method, params, emittedAtMs: Number(emittedAtMs) }];
    }

    /** The engine's last reusable answer (-1: none), and the method, thread and turn it was for. */
    #reuse = -1;
    #reuseText: [string, string, string] = ["", "", ""];

    /** The last method's number for the engine, and whether the engine reads its params (then
     * it gets the message's text): a stream repeats its deltas' method. */
    #methodName = "";
    #methodNumber = 0;
    #methodRead = false;

    /** The message with `params.turnId` set to the logical turn's id. */
    #relabel(msg: Message, owned: boolean): Message {
      this.#logical ??= this.raw.logical_turn_id() ?? null;
      const params = msg.params;
      if (params === null || typeof params !== "object" || Array.isArray(params)) return msg;
      if (owned) {
        params.turnId = this.#logical;
        return msg;
      }
      return { ...msg, params: { ...params, turnId: this.#logical } };
    }

    get done(): boolean {
      return this.raw.done();
    }

    /** The aggregated result; throws until `done`. A failed run is returned (status "failed"), not thrown. */
    result(): unknown {
      const raw = this.raw;
      return JSON.parse(entering(() => raw.result(), "ERR_INVALID_STATE"));
    }

    free(): void {
      this.#raw?.free();
      this.#raw = null;
      this.#held.clear();
      this.#interned.clear();
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
      return this.raw.active_turn_id() ?? null;
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
      const checked = text(line, "decodeMessage: line");
      return JSON.parse(entering(() => raw.decodeMessage(checked), "ERR_INVALID_ARGUMENT"));
    },
    encodeRequest(id: string | number, method: string, params?: unknown): string {
      if (typeof id !== "string" && !Number.isSafeInteger(id)) throw invalid("encodeRequest: id must be a string or an integer");
      text(method, "encodeRequest: method");
      const body = params === undefined || params === null ? null : json(params, "encodeRequest: params");
      return entering(() => raw.encodeRequest(JSON.stringify(id), method, body), "ERR_INVALID_ARGUMENT");
    },
    activeTurnIdFromError(message: string): string | null {
      return raw.activeTurnIdFromError(text(message, "activeTurnIdFromError: message")) ?? null;
    },
  };
}
