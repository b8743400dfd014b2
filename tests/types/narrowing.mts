// Compiled with `tsc --strict` by the test suite (never run): every ThreadItem variant and every
// notification method narrows on its discriminant, so a user's `switch` or `filter` types its fields.
import type { Notification, ServerNotificationMap, ThreadItem, TurnResult } from "codex-app-server-sdk";

/** Each variant's own field, reached only through narrowing; `never` proves the list is complete. */
export function describeItem(item: ThreadItem): string {
  switch (item.type) {
    case "userMessage": return `${item.id}: ${item.content.length} inputs`;
    case "hookPrompt": return `${item.id}: ${item.fragments.length} fragments`;
    case "agentMessage": return item.text;
    case "functionCallOutput": return item.name;
    case "plan": return item.text;
    case "reasoning": return `${item.id}: ${item.summary?.length ?? 0}`;
    case "commandExecution": return `${item.command} in ${item.cwd}: ${item.status}`;
    case "fileChange": return `${item.changes.length} changes, ${item.status}`;
    case "mcpToolCall": return `${item.server}.${item.tool}: ${item.status}`;
    case "dynamicToolCall": return `${item.tool}: ${item.status}`;
    case "collabAgentToolCall": return `${item.senderThreadId} → ${item.receiverThreadIds.join(",")}`;
    case "subAgentActivity": return `${item.agentPath}: ${item.kind}`;
    case "webSearch": return item.query;
    case "imageView": return item.path;
    case "sleep": return `${item.durationMs} ms`;
    case "imageGeneration": return `${item.id}: ${item.status}`;
    case "enteredReviewMode": return item.review;
    case "exitedReviewMode": return item.review;
    case "contextCompaction": return item.id;
    default: {
      const unreachable: never = item;
      return unreachable;
    }
  }
}

/** What a user writes: TypeScript infers the predicate, and the texts are typed strings. */
export function answers(result: TurnResult): string[] {
  return result.items.filter((i) => i.type === "agentMessage").map((i) => i.text);
}

/** Every notification method narrows `params` to exactly its own type. */
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type EveryMethodNarrows = {
  [M in keyof ServerNotificationMap]: Exact<Extract<Notification, { method: M }>["params"], ServerNotificationMap[M]>;
}[keyof ServerNotificationMap];
export const everyMethodNarrows: EveryMethodNarrows extends true ? true : never = true;

export function onNotification(n: Notification): string | number {
  if (n.method === "item/agentMessage/delta") return n.params.delta;
  if (n.method === "turn/completed") return n.params.turn.status;
  if (n.method === "thread/goal/updated") return n.params.goal.tokensUsed;
  if (n.method === "thread/tokenUsage/updated") return n.params.tokenUsage.last.totalTokens;
  if (n.method === "sdk/warning") return n.params.message;
  return n.method;
}
