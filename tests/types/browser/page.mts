// A page that aggregates a relayed goal with the wasm build.
import { GoalAggregator, type Notification, type TurnResult } from "codex-app-server-sdk/wasm";

export function follow(threadId: string, source: EventSource, done: (r: TurnResult) => void): void {
  const aggregator = new GoalAggregator(threadId);
  source.onmessage = (e: MessageEvent<string>) => {
    const logical: Notification[] = aggregator.push(e.data);
    for (const n of logical) if (n.method === "item/agentMessage/delta") document.title = n.params.delta;
    if (aggregator.done) done(aggregator.result());
  };
}
