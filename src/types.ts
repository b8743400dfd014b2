// Public types of the SDK's own surface. Protocol shapes come from protocol.d.ts, generated from
// the pinned app-server's schema.
import type * as P from "../protocol";

export type { P as Protocol };
export type { Notification, ServerRequest, SdkWarningNotification, ThreadGoal, ThreadItem, TokenUsageBreakdown, TurnError, TurnResult, UntypedNotification } from "./messages";
import type { ServerRequest } from "./messages";
export type ThreadGoalStatus = P.ThreadGoalStatus;
/** The protocol's Thread object, as `thread/read` returns it. */
export type ThreadInfo = P.Thread;
export type ThreadStartParams = P.ThreadStartParams;
export type ThreadResumeOptions = Omit<P.ThreadResumeParams, "threadId">;
export type ThreadForkOptions = Omit<P.ThreadForkParams, "threadId">;
export type ThreadListParams = P.ThreadListParams;
export type ThreadListResponse = P.ThreadListResponse;
export type ModelListResponse = P.ModelListResponse;
export type GetAccountResponse = P.GetAccountResponse;
export type { ServerNotificationMap, ServerRequestMap } from "./messages";
export type ClientRequestMap = P.ClientRequestMap;
export type ClientResponseMap = P.ClientResponseMap;

export interface ClientInfo {
  name: string;
  title?: string;
  version: string;
}

export interface CodexOptions {
  /** Default: `$CODEX_PATH`, else the installed `@openai/codex` package, else `codex` on PATH. */
  codexPath?: string;
  /** Each entry becomes `-c key=<TOML value>` before `app-server`. */
  config?: Record<string, unknown>;
  cwd?: string;
  /** Merged over `process.env`. */
  env?: Record<string, string>;
  clientInfo?: ClientInfo;
  /** Default true. */
  experimentalApi?: boolean;
  /** Spawn + initialize; default 30 000. */
  startupTimeoutMs?: number;
  /** Each request; default 120 000 (not turn length). */
  requestTimeoutMs?: number;
  /** Approvals, user input, ... Default: decline approvals, refuse the rest. What it returns is the
   * answer; what it throws becomes a JSON-RPC error. `context.signal` aborts when the answer is no
   * longer wanted: the server resolved the request itself (its turn ended), it went unanswered for
   * `serverRequestTimeoutMs` (the default answer was sent), or the client closed. */
  onServerRequest?: (request: ServerRequest, context: { signal: AbortSignal }) => unknown | Promise<unknown>;
  /** How long `onServerRequest` may take before the default answer is sent; default 600 000. */
  serverRequestTimeoutMs?: number;
  /** How many notifications may wait for a consumer slower than the app-server before consecutive
   * `item/agentMessage/delta`s of one item merge into one (their texts concatenated, nothing lost);
   * default 8 192. `Infinity` never merges: every notification is delivered as sent (recorders,
   * measurements), and memory then grows with the backlog. */
  mergeDeltasAfter?: number;
  /** How long a turn or goal may go on while the app-server reports that it cannot reach the model
   * (it retries: `error` notifications with `willRetry`, "Reconnecting… 2/5", "waiting for network")
   * before the run is stopped (its turn interrupted, a goal paused) and `result()` rejects
   * `ERR_MODEL_UNREACHABLE` with the server's last word; default 60 000. */
  modelUnreachableTimeoutMs?: number;
}

/** `Codex.connect()`: an app-server this client did not spawn. */
export interface ConnectOptions {
  /** `ws://host:port`, `wss://…`, `unix:///path/to.sock`, or `unix://` for the control socket of
   * `codexHome` (`app-server-control/app-server-control.sock`). `wss://` trusts the Mozilla roots and
   * the certificates in `$NODE_EXTRA_CA_CERTS`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; never logged, never in an error. */
  token?: string;
  /** Where `unix://` finds the control socket; default `$CODEX_HOME`, else `~/.codex`. */
  codexHome?: string;
  /** Permit plain `ws://` to a host that is not loopback (the token would travel in clear). */
  allowInsecure?: boolean;
  /** Re-dial a dropped connection and bring the runs in progress up to date; default true (12 attempts
   * per drop, backoff with jitter up to 5 s between them: 16 to 31 s in all). `false` gives up at the
   * first drop. */
  reconnect?: boolean | { attempts?: number; maxDelayMs?: number };
  /** Each dial plus handshake; default 10 000. */
  connectTimeoutMs?: number;
  clientInfo?: ClientInfo;
  experimentalApi?: boolean;
  requestTimeoutMs?: number;
  serverRequestTimeoutMs?: number;
  onServerRequest?: CodexOptions["onServerRequest"];
  mergeDeltasAfter?: number;
  /** How long a turn or goal may go on while the app-server reports that it cannot reach the model
   * (it retries: `error` notifications with `willRetry`, "Reconnecting… 2/5", "waiting for network")
   * before the run is stopped (its turn interrupted, a goal paused) and `result()` rejects
   * `ERR_MODEL_UNREACHABLE` with the server's last word; default 60 000. */
  modelUnreachableTimeoutMs?: number;
}

export interface Metadata {
  userAgent: string;
  codexHome: string;
  platformFamily: string;
  platformOs: string;
  serverVersion: string | null;
}

export type InputItem =
  | { type: "text"; text: string }
  | { type: "image"; url: string }
  | { type: "localImage"; path: string }
  | { type: "skill"; name: string; path: string }
  | { type: "mention"; name: string; path: string };
export type Input = string | InputItem | InputItem[];

export interface TurnOptions extends Partial<Omit<P.TurnStartParams, "threadId" | "input">> {
  /** Aborting before the turn starts rejects `AbortError`; after, it interrupts the turn. */
  signal?: AbortSignal;
}

export interface GoalOptions {
  tokenBudget?: number;
  /** Default 30 000. */
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface AttachGoalOptions {
  signal?: AbortSignal;
}

export interface ResumeGoalOptions {
  /** A new budget; `null` removes the budget; absent: the budget as it is. */
  tokenBudget?: number | null;
  /** How long to wait for the new run's first turn. Default 30 000. */
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface LoginHandle {
  loginId: string;
  /** ChatGPT browser login: where to send the user. */
  authUrl?: string;
  /** Device-code login: where the user enters `userCode`. */
  verificationUrl?: string;
  userCode?: string;
  /** Resolves when the login completes; rejects `CodexError` (`ERR_LOGIN_FAILED`) when it fails. */
  wait(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  cancel(): Promise<void>;
}
