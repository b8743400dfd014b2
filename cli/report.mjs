// What codex-goal prints, in three forms: for people (a live terminal, or plain lines in a pipe or a
// CI log), JSON lines for programs, or only the final response.
import { stripVTControlCharacters } from "node:util";
import stringWidth from "string-width";
import { Screen } from "./screen.mjs";

const number = (n) => Math.round(n).toLocaleString("en-US");

export function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/** Model text made safe for a terminal: no escape sequences or control characters but newlines. */
const clean = (text) => stripVTControlCharacters(text).replace(/\t/g, "    ").replace(/[\x00-\x09\x0b-\x1f\x7f]/g, "");

/** What is known of the run, for the status line and the summary. Two token counts, each with one
 * meaning: `tokens`, what the run's model calls used (the result's `usage.totalTokens`), and
 * `goalTokens`, what the goal has counted toward its budget (`goal.tokensUsed`: the server's own
 * measure, over every run of the goal, stopping when the goal stops). */
export class Progress {
  started = Date.now();
  turns = 0;
  tokens = 0;
  /** The thread's running total before this run's first usage update. */
  #base = null;
  goalTokens = null;
  status = "starting";
  budget;

  constructor(budget) {
    this.budget = budget;
  }

  take(n, handle) {
    this.turns = handle?.turnIds.length ?? this.turns;
    if (n.method === "turn/started" && this.status === "starting") this.status = handle?.goal?.status ?? "active";
    if (n.method === "thread/tokenUsage/updated") this.#usage(n.params.tokenUsage);
    if (n.method === "thread/goal/updated") {
      const g = n.params.goal;
      this.status = g.status;
      this.goalTokens = g.tokensUsed;
      this.budget = g.tokenBudget ?? this.budget;
    }
  }

  /** Counted from the thread's running total when the update carries it, as the engine counts: an
   * update sent again after a reconnect adds nothing, and one that never arrived is not missed. */
  #usage({ last, total }) {
    if (typeof total?.totalTokens !== "number") {
      this.tokens += last?.totalTokens ?? 0;
      return;
    }
    this.#base ??= total.totalTokens - (last?.totalTokens ?? 0);
    this.tokens = Math.max(this.tokens, total.totalTokens - this.#base);
  }

  parts() {
    const budget = this.budget ? [`budget ${number(this.goalTokens ?? 0)}/${number(this.budget)}`] : [];
    return [`goal ${this.status}`, `turn ${Math.max(this.turns, 1)}`, `${number(this.tokens)} tokens`, ...budget, duration(Date.now() - this.started)];
  }
}

const ENDINGS = { complete: "complete", blocked: "blocked", budgetLimited: "stopped at its token budget", usageLimited: "stopped at a usage limit", paused: "paused" };

/** For people: the agent's text as it comes, notes of what it does, progress, and a summary. */
export class HumanReport {
  #tty;
  #color;
  #screen;
  #progress;
  #timer;
  #streamed = new Set();
  #out;

  constructor(out, { budget, color }) {
    this.#out = out;
    this.#tty = Boolean(out.isTTY) && process.env.TERM !== "dumb";
    this.#color = this.#tty && color;
    this.#progress = new Progress(budget);
    if (this.#tty) {
      this.#screen = new Screen(out, (s) => this.#paint(s, 2));
      this.#timer = setInterval(() => this.#redraw(), 1000);
      this.#timer.unref();
    }
  }

  #paint(text, ...sgr) {
    return this.#color ? `\x1b[${sgr.join(";")}m${text}\x1b[0m` : text;
  }

  /** The status row: as many of its parts as the terminal's width takes, most important first. */
  #redraw() {
    if (!this.#screen) return;
    const width = (this.#out.columns || 80) - 1;
    const parts = [...this.#progress.parts(), ...(this.#steerable ? ["type to steer"] : [])];
    let line = parts[0];
    for (const part of parts.slice(1)) {
      if (stringWidth(`${line} · ${part}`) > width) break;
      line = `${line} · ${part}`;
    }
    this.#screen.status(line);
  }

  #steerable = false;

  /** A line of its own (notes, summaries): above the live rows on a terminal. */
  #line(text) {
    if (this.#screen) this.#screen.line(text);
    else {
      this.#endText();
      this.#out.write(`${text}\n`);
    }
  }

  #midLine = false;
  #text(text) {
    if (this.#screen) return this.#screen.text(text);
    this.#out.write(text);
    if (text) this.#midLine = !text.endsWith("\n");
  }

  #endText() {
    if (this.#screen) return this.#screen.endText();
    if (this.#midLine) this.#out.write("\n");
    this.#midLine = false;
  }

  /** The typing row (terminal steering). */
  input(text) {
    this.#screen?.input(text);
  }

  started({ threadId, serverVersion, where, steerable }) {
    this.#steerable = steerable && this.#tty;
    this.#line(this.#paint(`thread ${threadId} · codex app-server ${serverVersion ?? "?"}${where ? ` · ${where}` : ""}`, 2));
    this.#redraw();
  }

  notification(n, handle) {
    this.#progress.take(n, handle);
    switch (n.method) {
      case "item/agentMessage/delta":
        this.#streamed.add(n.params.itemId);
        this.#text(clean(n.params.delta));
        break;
      case "item/completed": {
        const item = n.params.item;
        if (item.type === "agentMessage") {
          if (!this.#streamed.has(item.id)) this.#text(clean(item.text));
          this.#endText();
        } else if (item.type === "commandExecution") {
          this.#line(this.#paint(`$ ${clean(item.command)}${item.exitCode != null ? ` (exit ${item.exitCode})` : ` (${item.status})`}`, 2));
        } else if (item.type === "fileChange") {
          for (const change of item.changes ?? []) this.#line(this.#paint(`edited ${clean(change.path)}`, 2));
        }
        break;
      }
      case "error": {
        // The app-server's retries of a model it cannot reach, as they happen (the SDK stops the
        // run after modelUnreachableTimeoutMs of them).
        const { message, additionalDetails } = n.params.error;
        const details = additionalDetails ? ` (${clean(additionalDetails)})` : "";
        this.#line(this.#paint(`model: ${clean(message)}${details}${n.params.willRetry ? " · retrying" : ""}`, 33));
        break;
      }
      case "thread/goal/updated":
        if (!this.#tty) this.#line(`[${this.#progress.parts().join(" · ")}]`);
        break;
    }
    this.#redraw();
  }

  steered(text) {
    this.#line(this.#paint(`» steer: ${clean(text)}`, 36));
  }

  note(text) {
    this.#line(this.#paint(text, 33));
  }

  /** --detach: the goal goes on without this command. */
  detached(command) {
    clearInterval(this.#timer);
    this.#screen?.close();
    this.#screen = null;
    this.#endText();
    this.#out.write(`\ndetached: the goal keeps running on the server · follow it again: ${command}\n`);
  }

  /** The summary; the live rows are gone after it. */
  finished(result, { interrupted, threadId, resume }) {
    clearInterval(this.#timer);
    this.#screen?.close();
    this.#screen = null;
    this.#endText();
    const goal = result?.goal?.status;
    let status = interrupted ? "interrupted (goal paused)" : result?.status === "failed" ? `failed: ${result.error?.message ?? "unknown error"}` : `goal ${ENDINGS[goal] ?? goal ?? result?.status}`;
    const ok = !interrupted && goal === "complete";
    status = this.#paint(status, 1, ok ? 32 : result?.status === "failed" ? 31 : 33);
    const usage = result?.usage?.totalTokens ?? this.#progress.tokens;
    const budget = result?.goal?.tokenBudget ?? this.#progress.budget;
    const counted = result?.goal?.tokensUsed ?? this.#progress.goalTokens ?? 0;
    const turns = result?.turnIds.length ?? this.#progress.turns;
    const facts = [
      `${turns} turn${turns === 1 ? "" : "s"}`,
      `${number(usage)} tokens`,
      ...(budget ? [`budget ${number(counted)}/${number(budget)}`] : []),
      duration(result?.durationMs ?? Date.now() - this.#progress.started),
    ];
    this.#out.write(`\n${status} · ${facts.join(" · ")}\n`);
    if (threadId) {
      const next = !ok && resume ? ` · to go on: ${resume}` : "";
      this.#out.write(`${this.#paint(`thread ${threadId}${next}`, 2)}\n`);
    }
  }
}

/** JSON lines: every notification of the logical turn as it came, then the TurnResult. */
export class JsonReport {
  #out;
  constructor(out) {
    this.#out = out;
  }
  input() {}
  started() {}
  notification(n) {
    this.#out.write(`${JSON.stringify(n)}\n`);
  }
  steered() {}
  note(text) {
    process.stderr.write(`${text}\n`);
  }
  detached(command) {
    process.stderr.write(`detached: the goal keeps running on the server; follow it again: ${command}\n`);
  }
  finished(result) {
    if (result) this.#out.write(`${JSON.stringify(result)}\n`);
  }
}

/** Only the final response. */
export class QuietReport {
  #out;
  constructor(out) {
    this.#out = out;
  }
  input() {}
  started() {}
  notification() {}
  steered() {}
  note() {}
  detached(command) {
    process.stderr.write(`detached: the goal keeps running on the server; follow it again: ${command}\n`);
  }
  finished(result) {
    if (result?.finalResponse) this.#out.write(`${result.finalResponse}\n`);
  }
}
