// Checks of every public argument, run before anything is sent or changed: a mistake is a
// `TypeError` or `RangeError` with code ERR_INVALID_ARGUMENT naming the call, the option and the
// value at fault. The one place the TypeScript layer checks its callers.
import { describe, invalidArgument } from "./errors";
import { INPUT_ITEM_FIELDS } from "./protocol-params";
import type { InputItem } from "./types";

/** The longest wait a JS timer takes, and so the longest timeout the SDK accepts. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A short, safe rendering of any value for an error message. */
export function show(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
    case "object":
      return Array.isArray(value) ? "an array" : "an object";
    case "function":
      return "a function";
    case "bigint":
      return `${value}n`;
    case "symbol":
      return "a symbol";
    default:
      return String(value);
  }
}

/**
 * An options object: `undefined` is `{}`; anything but a plain object, and any key not in
 * `allowed`, is refused with the valid names listed (and the closest one suggested).
 */
export function options(value: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidArgument(`${what}: options must be an object, got ${show(value)}`);
  }
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    const hint = closest(unknown[0], allowed);
    throw invalidArgument(
      `${what}: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")}` +
        `${hint ? ` (did you mean "${hint}"?)` : ""}; valid options: ${allowed.join(", ")}`,
    );
  }
  return value as Record<string, unknown>;
}

/** A plain object of any keys (an `env` or `config` map), if given. */
export function record(value: unknown, name: string, what: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalidArgument(`${what}: ${name} must be an object, got ${show(value)}`);
  return value as Record<string, unknown>;
}

/** A timeout in ms, if given: a finite number from 1 (less would round to no wait at all) to 2^31-1. */
export function timeout(value: unknown, name: string, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw invalidArgument(`${what}: ${name} must be a number of milliseconds, got ${show(value)}`);
  if (!Number.isFinite(value) || value < 1 || value > MAX_TIMEOUT_MS) {
    throw invalidArgument(`${what}: ${name} must be from 1 to ${MAX_TIMEOUT_MS} ms, got ${show(value)}`, RangeError);
  }
  return value;
}

/** An `env` map: names a process environment can hold (not empty, no "=" or NUL), text values
 * without NUL. */
export function env(value: unknown, what: string): Record<string, string> | undefined {
  const map = record(value, "env", what);
  if (!map) return undefined;
  for (const [k, v] of Object.entries(map)) {
    if (k === "" || k.includes("=") || k.includes("\0")) {
      throw invalidArgument(`${what}: env has the name ${JSON.stringify(k)}, which no environment can hold (empty, or with "=" or NUL)`);
    }
    string(v, `env.${k}`, what, { nonEmpty: false });
    if ((v as string).includes("\0")) throw invalidArgument(`${what}: env.${k} contains a NUL character, which no environment can hold`);
  }
  return map as Record<string, string>;
}

/** A `config` map: each value must have a TOML form (it becomes `-c key=value`): text, a finite
 * number, a boolean, or arrays and plain objects of those. Anything else is named with its path. */
export function config(value: unknown, what: string): Record<string, unknown> | undefined {
  const map = record(value, "config", what);
  if (!map) return undefined;
  const seen = new Set<object>([map]);
  const visit = (v: unknown, at: string, depth: number): void => {
    if (depth > 64) throw invalidArgument(`${what}: ${at} is nested too deeply to be a config value`);
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) throw invalidArgument(`${what}: ${at} refers back to an object that holds it (a cycle), which a config value cannot do`);
      seen.add(v);
    }
    if (typeof v === "string") return wellFormed(v, at, what);
    if (typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) return;
    if (Array.isArray(v)) return v.forEach((x, i) => visit(x, `${at}[${i}]`, depth + 1));
    if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      for (const [k, x] of Object.entries(v)) visit(x, `${at}.${k}`, depth + 1);
      return;
    }
    throw invalidArgument(`${what}: ${at} is ${show(v)}, which a config value cannot be (text, a finite number, a boolean, or arrays and objects of those)`);
  };
  for (const [k, v] of Object.entries(map)) {
    if (k === "") throw invalidArgument(`${what}: config has an empty key`);
    visit(v, `config.${k}`, 0);
  }
  return map;
}

/** A param the pinned schema gives a closed list of string values for. */
export function oneOf(value: unknown, allowed: readonly string[], name: string, what: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== "string" || !allowed.includes(value)) {
    throw invalidArgument(`${what}: ${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${show(value)}`, typeof value === "string" ? RangeError : TypeError);
  }
}

export function signal(value: unknown, what: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  // By brand, not instanceof: a signal from another realm (a worker, a vm context) is a signal too.
  if (Object.prototype.toString.call(value) !== "[object AbortSignal]") {
    throw invalidArgument(`${what}: signal must be an AbortSignal, got ${show(value)}`);
  }
  return value as AbortSignal;
}

export function string(value: unknown, name: string, what: string, { optional = false, nonEmpty = true } = {}): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== "string") throw invalidArgument(`${what}: ${name} must be a string, got ${show(value)}`);
  if (nonEmpty && value === "") throw invalidArgument(`${what}: ${name} must not be empty`);
  wellFormed(value, name, what);
  return value;
}

export function boolean(value: unknown, name: string, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw invalidArgument(`${what}: ${name} must be a boolean, got ${show(value)}`);
  return value;
}

export function positiveInteger(value: unknown, name: string, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw invalidArgument(`${what}: ${name} must be a number, got ${show(value)}`);
  if (!Number.isSafeInteger(value) || value <= 0) throw invalidArgument(`${what}: ${name} must be a positive integer, got ${show(value)}`, RangeError);
  return value;
}

export function func<T>(value: unknown, name: string, what: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw invalidArgument(`${what}: ${name} must be a function, got ${show(value)}`);
  return value as T;
}

/** Text the wire can carry: no lone surrogates, which JSON parsers on the other side refuse. */
export function wellFormed(text: string, name: string, what: string): void {
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw invalidArgument(`${what}: ${name} contains a lone surrogate (malformed UTF-16) and cannot be sent`);
  }
}

/** `value` as JSON text the app-server can read, or the reason it cannot be (a BigInt, a cycle, a
 * throwing `toJSON`, malformed text), naming `name`. */
export function json(value: unknown, name: string, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (key, v) => {
      const malformed = (t: string) => !(t as string & { isWellFormed(): boolean }).isWellFormed();
      if (malformed(key) || (typeof v === "string" && malformed(v))) {
        throw new TypeError(`the string at ${JSON.stringify(key)} contains a lone surrogate (malformed UTF-16)`);
      }
      return v;
    });
  } catch (err) {
    throw invalidArgument(`${what}: ${name} cannot be sent as JSON: ${describe(err)}`);
  }
  if (text === undefined) throw invalidArgument(`${what}: ${name} cannot be sent as JSON (it is ${show(value)})`);
  return text;
}

/** The `input` array of `turn/start` and `turn/steer`, from the friendlier `Input`. */
export function inputItems(input: unknown, what: string): InputItem[] {
  const items = typeof input === "string" ? [{ type: "text", text: input }] : Array.isArray(input) ? input : [input];
  if (items.length === 0) throw invalidArgument(`${what}: input is empty`);
  for (const [i, item] of items.entries()) {
    const at = Array.isArray(input) ? `input[${i}]` : "input";
    if (item === null || typeof item !== "object" || Array.isArray(item) || typeof item.type !== "string") {
      throw invalidArgument(`${what}: ${at} must be a string, or an object with a string \`type\`, got ${show(item)}`);
    }
    const fields = INPUT_ITEM_FIELDS[item.type];
    if (!fields) throw invalidArgument(`${what}: ${at} has unknown type ${JSON.stringify(item.type)}; known types: ${Object.keys(INPUT_ITEM_FIELDS).join(", ")}`);
    options(item, `${what}: ${at} (${item.type})`, fields);
    if (item.type === "text") string(item.text, `${at}.text`, what, { nonEmpty: false });
  }
  return items as InputItem[];
}

/** The allowed name most like `name`: same letters ignoring case, else a small edit away. */
function closest(name: string, allowed: readonly string[]): string | null {
  const lower = name.toLowerCase();
  const exact = allowed.find((a) => a.toLowerCase() === lower);
  if (exact) return exact;
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const a of allowed) {
    const d = distance(lower, a.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [a, d];
  }
  return best;
}

/** Levenshtein distance, for suggestions on short option names. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
