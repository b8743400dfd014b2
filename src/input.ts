import type { Input, InputItem } from "./types";

const KINDS = new Set(["text", "image", "localImage", "skill", "mention"]);

/** The `input` array of `turn/start` and `turn/steer`, from the friendlier `Input`. */
export function toInputItems(input: Input, method: string): InputItem[] {
  const items = typeof input === "string" ? [{ type: "text" as const, text: input }] : Array.isArray(input) ? input : [input];
  if (items.length === 0) throw new TypeError(`${method}: input is empty`);
  for (const item of items) {
    if (item === null || typeof item !== "object" || typeof (item as { type?: unknown }).type !== "string") {
      throw new TypeError(`${method}: each input item must be an object with a string \`type\`, got ${JSON.stringify(item)}`);
    }
    if (!KINDS.has(item.type)) throw new TypeError(`${method}: unknown input item type "${item.type}"`);
    if (item.type === "text" && typeof item.text !== "string") throw new TypeError(`${method}: a text item needs a string \`text\``);
  }
  return items;
}
