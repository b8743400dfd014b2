// A plain JavaScript implementation of the goal engine's rules, as an app might hand-write it:
// the baseline for the engine benchmark (same input, same logical output).
export class JsGoalEngine {
  constructor(threadId) {
    Object.assign(this, { threadId, logical: null, current: null, ids: [], items: [], usage: 0, status: "active", between: false, done: false, interrupted: false });
  }

  push(msg) {
    const p = msg.params ?? {};
    if (this.done || (p.threadId ?? p.thread?.id) !== this.threadId) return [];
    const turnId = p.turnId ?? p.turn?.id;
    switch (msg.method) {
      case "turn/started":
        this.current = turnId;
        this.ids.push(turnId);
        this.between = false;
        if (this.logical === null) {
          this.logical = turnId;
          return [msg];
        }
        return [];
      case "turn/completed":
        this.current = null;
        this.between = true;
        this.interrupted = p.turn.status === "interrupted";
        return this.finish(msg);
      case "thread/goal/updated":
        this.status = p.goal.status;
        return this.logical ? [this.relabel(msg), ...this.finish(null)] : [];
      default:
        if (!this.ids.includes(turnId)) return [];
        if (msg.method === "item/completed") this.items.push(p.item);
        if (msg.method === "thread/tokenUsage/updated") this.usage += p.tokenUsage.last.totalTokens;
        return [this.relabel(msg)];
    }
  }

  relabel(msg) {
    return msg.params.turnId === this.logical ? msg : { method: msg.method, params: { ...msg.params, turnId: this.logical } };
  }

  finish(completed) {
    if (!this.between || (this.status === "active" && !this.interrupted)) return [];
    this.done = true;
    const turn = { ...(completed?.params.turn ?? {}), id: this.logical, items: [] };
    return [{ method: "turn/completed", params: { threadId: this.threadId, turn } }];
  }
}
