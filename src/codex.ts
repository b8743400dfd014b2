import * as fs from "node:fs";
import * as path from "node:path";
import type { BindingClient } from "../binding/index";
import { withSignal } from "./abort";
import { resolveCodexPath } from "./binary";
import { CodexError, describe, invalidArgument, TimeoutError } from "./errors";
import { settle } from "./outcome";
import { lineIterator } from "./iterate";
import { binding } from "./native";
import { PARAM_VALUES, REQUEST_PARAMS } from "./protocol-params";
import { Thread } from "./thread";
import * as check from "./validate";
import type {
  ClientRequestMap,
  ClientResponseMap,
  CodexOptions,
  ConnectOptions,
  GetAccountResponse,
  LoginHandle,
  Metadata,
  ModelListResponse,
  Notification,
  Protocol,
  RequestOptions,
  ServerRequest,
  ThreadForkOptions,
  ThreadInfo,
  ThreadListParams,
  ThreadListResponse,
  ThreadResumeOptions,
  ThreadStartParams,
} from "./types";

type ResponseOf<M extends string> = M extends keyof ClientResponseMap ? ClientResponseMap[M] : unknown;
type ParamsOf<M extends string> = M extends keyof ClientRequestMap ? ClientRequestMap[M] : unknown;

/** A client of one `codex app-server` process, spawned and supervised by the native core. */
export class Codex implements AsyncDisposable {
  readonly metadata: Metadata;
  /** The app-server process, when this client spawned it (null after `Codex.connect`). */
  readonly pid: number | null;
  readonly #client: BindingClient;
  readonly #closing = new AbortController();
  /** Server requests handed to `onServerRequest` and not answered yet, by JSON of their id. */
  readonly #serverRequests = new Map<string, AbortController>();
  #closed: Promise<void> | null = null;
  /** Where the app-server resolves relative paths, when it runs on this machine (spawned, or on a
   * unix socket): then a `cwd` is checked here before anything is sent. Null for a server elsewhere. */
  readonly #localCwd: string | null;
  /** Whether the server has an account signed in, once seen (a sign-out through this client forgets it). */
  #signedIn = false;
  /** The reasoning efforts the server's models advertise, by model, once asked. */
  #efforts: Promise<Map<string, string[]> | null> | null = null;

  private constructor(client: BindingClient, onServerRequest: CodexOptions["onServerRequest"], localCwd: string | null) {
    this.#client = client;
    this.#localCwd = localCwd;
    this.metadata = JSON.parse(client.metadata()) as Metadata;
    this.pid = client.pid;
    if (onServerRequest) client.setServerRequestHandler((line: string) => this.#onServerRequest(onServerRequest, line));
  }

  /** Spawns the app-server and completes the handshake within `startupTimeoutMs`. */
  static async start(options?: CodexOptions): Promise<Codex> {
    const what = "Codex.start";
    const o = check.options(options, what, START_OPTIONS);
    const env = check.env(o.env, what);
    const config = check.config(o.config, what);
    const cwd = check.string(o.cwd, "cwd", what, { optional: true });
    if (cwd !== undefined) directory(cwd, "cwd", what);
    const common = clientOptions(o, what);
    const client = await settle(
      binding.startClient({
        ...common.binding,
        codexPath: resolveCodexPath(check.string(o.codexPath, "codexPath", what, { optional: true })),
        config: config ? JSON.parse(check.json(config, "config", what)) : undefined,
        cwd,
        env,
        startupTimeoutMs: check.timeout(o.startupTimeoutMs, "startupTimeoutMs", what),
      }),
    );
    return new Codex(client, common.onServerRequest, path.resolve(cwd ?? "."));
  }

  /**
   * Connects to an app-server this client did not spawn (`ws://`, `wss://`, `unix://`) and completes
   * the handshake. The same API as a spawned one; `pid` is null and `close()` never stops the server.
   * A dropped connection is re-dialled and the runs in progress resumed (see `reconnect`).
   */
  static async connect(options: ConnectOptions): Promise<Codex> {
    const what = "Codex.connect";
    if (options === undefined) throw invalidArgument(`${what}: options with a url are required`);
    const o = check.options(options, what, CONNECT_OPTIONS);
    const url = check.string(o.url, "url", what) as string;
    const reconnect = o.reconnect;
    let policy: { reconnect?: boolean; reconnectAttempts?: number; reconnectMaxDelayMs?: number } = {};
    if (typeof reconnect === "boolean") policy = { reconnect };
    else if (reconnect !== undefined) {
      const r = check.options(reconnect, `${what}: reconnect`, ["attempts", "maxDelayMs"]);
      policy = {
        reconnect: true,
        reconnectAttempts: check.positiveInteger(r.attempts, "reconnect.attempts", what),
        reconnectMaxDelayMs: check.timeout(r.maxDelayMs, "reconnect.maxDelayMs", what),
      };
    }
    const common = clientOptions(o, what);
    const client = await settle(
      binding.connectClient({
        url,
        token: check.string(o.token, "token", what, { optional: true }),
        codexHome: check.string(o.codexHome, "codexHome", what, { optional: true }),
        allowInsecure: check.boolean(o.allowInsecure, "allowInsecure", what),
        connectTimeoutMs: check.timeout(o.connectTimeoutMs, "connectTimeoutMs", what),
        ...policy,
        client: { ...common.binding, codexPath: "" },
      }),
    );
    // A unix socket is on this machine; a ws:// port may be a tunnel to another.
    return new Codex(client, common.onServerRequest, url.startsWith("unix:") ? "/" : null);
  }

  /** Ends the connection and settles everything pending; a spawned app-server is ended too (stdin
   * closed, then TERM, then KILL, to its whole process tree), a connected one keeps running. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closing.abort();
      this.#closed = settle(this.#client.close());
    }
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Sends any request; resolves with its result. Bounded by `timeoutMs` (default `requestTimeoutMs`). */
  async request<M extends keyof ClientRequestMap>(method: M, params?: ParamsOf<M>, options?: RequestOptions): Promise<ResponseOf<M>>;
  async request<T = unknown>(method: string, params?: unknown, options?: RequestOptions): Promise<T>;
  async request(method: string, params?: unknown, options?: RequestOptions): Promise<unknown> {
    const what = "request";
    check.string(method, "method", what);
    const o = check.options(options, `${what}(${method})`, ["timeoutMs", "signal"]);
    const timeoutMs = check.timeout(o.timeoutMs, "timeoutMs", `${what}(${method})`);
    const signal = check.signal(o.signal, `${what}(${method})`);
    const body = params === undefined ? null : check.json(params, "params", method);
    if (signal?.aborted) return withSignal(Promise.resolve(), signal, method);
    const answer = settle(this.#client.request(method, body, timeoutMs ?? null));
    return JSON.parse(await withSignal(answer, signal, method));
  }

  /** Every notification from now on, until the client closes (then it rejects `TransportClosedError`). */
  notifications(options?: { signal?: AbortSignal }): AsyncIterableIterator<Notification> {
    const o = check.options(options, "notifications", ["signal"]);
    const signal = check.signal(o.signal, "notifications");
    const stream = this.#client.subscribe();
    return lineIterator<Notification>((max) => stream.now(max), (max) => stream.next(max), () => stream.discard(), signal);
  }

  async startThread(params?: ThreadStartParams): Promise<Thread> {
    const r = await this.request("thread/start", this.#threadParams("thread/start", params, "startThread"));
    return new Thread(this, r.thread.id, r.thread.modelProvider);
  }

  async resumeThread(threadId: string, params?: ThreadResumeOptions): Promise<Thread> {
    const id = requireId(threadId, "resumeThread");
    const r = await this.request("thread/resume", { ...this.#threadParams("thread/resume", params, "resumeThread", ["threadId"]), threadId: id, excludeTurns: true });
    return new Thread(this, r.thread.id, r.thread.modelProvider);
  }

  async forkThread(threadId: string, params?: ThreadForkOptions): Promise<Thread> {
    const id = requireId(threadId, "forkThread");
    const r = await this.request("thread/fork", { ...this.#threadParams("thread/fork", params, "forkThread", ["threadId"]), threadId: id, excludeTurns: true });
    return new Thread(this, r.thread.id, r.thread.modelProvider);
  }

  /** Params of a request that opens a thread, checked before anything is sent. */
  #threadParams<T>(method: string, params: T | undefined, what: string, exclude: string[] = []): T {
    const p = protocolParams(method, params, what, exclude) as Record<string, unknown>;
    this._checkValues(method, p, what);
    return p as T;
  }

  /** @internal Checks params against the values the pinned schema allows, and a `cwd` against this
   * machine when the server runs here. */
  _checkValues(method: string, params: Record<string, unknown>, what: string): void {
    for (const [name, allowed] of Object.entries(PARAM_VALUES[method] ?? {})) check.oneOf(params[name], allowed, name, what);
    if (params.cwd !== undefined && params.cwd !== null) {
      const cwd = check.string(params.cwd, "cwd", what) as string;
      if (this.#localCwd !== null) directory(path.resolve(this.#localCwd, cwd), "cwd", what, cwd);
    }
  }

  /** @internal Rejects `ERR_AUTH`, saying how to sign in, when the server has no account signed in
   * and its model provider needs one. */
  async _checkSignedIn(what: string): Promise<void> {
    if (this.#signedIn) return;
    const a = await this.account();
    if (a.account || !a.requiresOpenaiAuth) {
      this.#signedIn = true;
      return;
    }
    throw new CodexError(
      `${what}: not signed in: the app-server's model provider needs an OpenAI account, and ${this.metadata.codexHome || "its CODEX_HOME"} has none. ` +
        "Sign in with codex.loginApiKey(key) (an API key from platform.openai.com), codex.loginChatgpt() or codex.loginChatgptDeviceCode() (a ChatGPT plan), " +
        "or run `codex login` with the same CODEX_HOME; or configure another model provider.",
      "ERR_AUTH",
    );
  }

  /** @internal Refuses a reasoning effort no model of this server advertises (the schema leaves the
   * values to the models): that `model`'s, or any model's when it is not listed. */
  async _checkEffort(effort: unknown, model: unknown, what: string): Promise<void> {
    if (effort === undefined || effort === null) return;
    check.string(effort, "effort", what);
    this.#efforts ??= this.request("model/list", { includeHidden: true }).then(
      (r) => new Map(r.data.map((m) => [m.model, m.supportedReasoningEfforts.map((e) => e.reasoningEffort)])),
      () => null,
    );
    const efforts = await this.#efforts;
    if (!efforts || efforts.size === 0) return;
    const allowed = (typeof model === "string" && efforts.get(model)) || [...new Set([...efforts.values()].flat())];
    if (allowed.length && !allowed.includes(effort as string)) {
      const whose = typeof model === "string" && efforts.has(model) ? `model ${model}` : "any model of this app-server";
      throw invalidArgument(`${what}: effort ${JSON.stringify(effort)} is not a reasoning effort ${whose} advertises: ${allowed.join(", ")}`, RangeError);
    }
  }

  async listThreads(params?: ThreadListParams): Promise<ThreadListResponse> {
    return this.request("thread/list", protocolParams("thread/list", params, "listThreads"));
  }

  async readThread(threadId: string, options?: { includeTurns?: boolean }): Promise<ThreadInfo> {
    const id = requireId(threadId, "readThread");
    const o = check.options(options, "readThread", ["includeTurns"]);
    const includeTurns = check.boolean(o.includeTurns, "includeTurns", "readThread") ?? false;
    const r = await this.request("thread/read", { threadId: id, includeTurns });
    return r.thread;
  }

  async archiveThread(threadId: string): Promise<void> {
    await this.request("thread/archive", { threadId: requireId(threadId, "archiveThread") });
  }

  async unarchiveThread(threadId: string): Promise<Thread> {
    const r = await this.request("thread/unarchive", { threadId: requireId(threadId, "unarchiveThread") });
    return new Thread(this, r.thread.id);
  }

  async models(options?: { includeHidden?: boolean }): Promise<ModelListResponse> {
    const o = check.options(options, "models", ["includeHidden"]);
    return this.request("model/list", { includeHidden: check.boolean(o.includeHidden, "includeHidden", "models") ?? false });
  }

  async account(options?: { refreshToken?: boolean }): Promise<GetAccountResponse> {
    const o = check.options(options, "account", ["refreshToken"]);
    return this.request("account/read", { refreshToken: check.boolean(o.refreshToken, "refreshToken", "account") ?? false });
  }

  /** Logs in with an API key; resolves once the server reports the login complete. */
  async loginApiKey(apiKey: string): Promise<void> {
    check.string(apiKey, "apiKey", "loginApiKey");
    const login = await this.#login({ type: "apiKey", apiKey });
    await login.wait({ timeoutMs: 30_000 });
  }

  /** Starts a ChatGPT browser login: send the user to `authUrl`, then `wait()`. */
  loginChatgpt(): Promise<LoginHandle> {
    return this.#login({ type: "chatgpt" });
  }

  /** Starts a device-code login: show `verificationUrl` and `userCode`, then `wait()`. */
  loginChatgptDeviceCode(): Promise<LoginHandle> {
    return this.#login({ type: "chatgptDeviceCode" });
  }

  async logout(): Promise<void> {
    this.#signedIn = false;
    await this.request("account/logout");
  }

  async #login(params: Protocol.LoginAccountParams): Promise<LoginHandle> {
    // Listen before asking, so a fast completion is not missed.
    const stop = new AbortController();
    const events = this.notifications({ signal: stop.signal });
    let response: { loginId?: string; authUrl?: string; verificationUrl?: string; userCode?: string };
    try {
      response = (await this.request("account/login/start", params)) as typeof response;
    } catch (err) {
      stop.abort();
      throw err;
    }
    const loginId = response.loginId ?? "";
    let cancelled = false;
    let settle!: { resolve: () => void; reject: (err: unknown) => void };
    const completion = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    completion.catch(() => {});
    (async () => {
      for await (const n of events) {
        if (n.method === "account/login/completed" && (n.params.loginId ?? loginId) === loginId) {
          if (n.params.success) settle.resolve();
          else settle.reject(new CodexError(`login failed: ${n.params.error ?? "unknown reason"}`, "ERR_LOGIN_FAILED"));
          return;
        }
      }
    })()
      .catch((err) => {
        if (!cancelled) settle.reject(err);
      })
      .finally(() => stop.abort());
    return {
      loginId,
      authUrl: response.authUrl,
      verificationUrl: response.verificationUrl,
      userCode: response.userCode,
      wait: (options?: { signal?: AbortSignal; timeoutMs?: number }) => {
        const o = check.options(options, "login.wait", ["signal", "timeoutMs"]);
        const signal = check.signal(o.signal, "login.wait");
        const timeoutMs = check.timeout(o.timeoutMs, "timeoutMs", "login.wait");
        if (timeoutMs === undefined) return withSignal(completion, signal, "login");
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TimeoutError(`login did not complete within ${timeoutMs} ms`, "account/login/start")), timeoutMs);
        });
        return withSignal(Promise.race([completion, timeout]), signal, "login").finally(() => clearTimeout(timer));
      },
      cancel: async () => {
        if (cancelled) return;
        cancelled = true;
        settle.reject(new CodexError("login was cancelled", "ERR_LOGIN_CANCELLED"));
        stop.abort();
        await this.request("account/login/cancel", { loginId });
      },
    };
  }

  /** Hands a server request to the embedder's handler and sends whatever comes of it, at once:
   * its answer, or a JSON-RPC error saying why there is none (it threw, or its answer cannot be sent
   * as JSON). Nothing here can throw into the host or leave a rejection unhandled. */
  #onServerRequest(handler: NonNullable<CodexOptions["onServerRequest"]>, line: string): void {
    const message = JSON.parse(line) as ServerRequest | { method: "serverRequest/resolved"; params: { requestId: string | number; reason?: string } };
    if (!("id" in message)) {
      // The server resolved it (its turn ended), it timed out and got the default answer, or the
      // connection it was asked on dropped. Its handler's answer goes nowhere now: a request asked
      // later on a new connection may reuse the id.
      const key = JSON.stringify(message.params.requestId);
      const why =
        message.params.reason === "connectionLost"
          ? "the connection it was asked on dropped before the answer was sent (the server may ask again)"
          : "the server request was resolved without this answer";
      const controller = this.#serverRequests.get(key);
      this.#serverRequests.delete(key);
      controller?.abort(new CodexError(why, "ERR_REQUEST_RESOLVED"));
      return;
    }
    const request = message;
    const id = JSON.stringify(request.id);
    const controller = new AbortController();
    this.#serverRequests.set(id, controller);
    const answer = (result: string | null, error: { code: number; message: string } | null) => {
      if (this.#serverRequests.get(id) !== controller) return;
      this.#serverRequests.delete(id);
      // An error result means the connection closed meanwhile; the request died with it.
      this.#client.respond(id, result, error);
    };
    const signal = AbortSignal.any([this.#closing.signal, controller.signal]);
    Promise.resolve()
      .then(() => handler({ id: request.id, method: request.method, params: request.params } as ServerRequest, { signal }))
      .then(
        (result) => {
          let text: string;
          try {
            text = check.json(result ?? null, "the answer", `onServerRequest (${request.method})`);
          } catch (err) {
            return answer(null, { code: -32603, message: describe(err) });
          }
          answer(text, null);
        },
        (err) => answer(null, { code: -32603, message: `onServerRequest failed: ${describe(err)}` }),
      )
      .catch(() => {});
  }

  /** @internal */
  _binding(): BindingClient {
    return this.#client;
  }
}

/** The options a client has however it reaches its app-server. */
const CLIENT_OPTIONS = [
  "clientInfo",
  "experimentalApi",
  "requestTimeoutMs",
  "serverRequestTimeoutMs",
  "onServerRequest",
  "mergeDeltasAfter",
  "modelUnreachableTimeoutMs",
] as const;
const START_OPTIONS = ["codexPath", "config", "cwd", "env", "startupTimeoutMs", ...CLIENT_OPTIONS];
const CONNECT_OPTIONS = ["url", "token", "codexHome", "allowInsecure", "reconnect", "connectTimeoutMs", ...CLIENT_OPTIONS];

/** The checked options of `CLIENT_OPTIONS`, as the binding takes them. */
function clientOptions(o: Record<string, unknown>, what: string) {
  const clientInfo = o.clientInfo === undefined ? undefined : check.options(o.clientInfo, `${what}: clientInfo`, ["name", "title", "version"]);
  if (clientInfo) {
    check.string(clientInfo.name, "clientInfo.name", what);
    check.string(clientInfo.version, "clientInfo.version", what);
    check.string(clientInfo.title, "clientInfo.title", what, { optional: true });
  }
  return {
    onServerRequest: check.func<CodexOptions["onServerRequest"]>(o.onServerRequest, "onServerRequest", what),
    binding: {
      clientInfo: clientInfo as CodexOptions["clientInfo"],
      experimentalApi: check.boolean(o.experimentalApi, "experimentalApi", what),
      requestTimeoutMs: check.timeout(o.requestTimeoutMs, "requestTimeoutMs", what),
      serverRequestTimeoutMs: check.timeout(o.serverRequestTimeoutMs, "serverRequestTimeoutMs", what),
      mergeDeltasAfter: o.mergeDeltasAfter === Infinity ? Infinity : check.positiveInteger(o.mergeDeltasAfter, "mergeDeltasAfter", what),
      modelUnreachableTimeoutMs: check.timeout(o.modelUnreachableTimeoutMs, "modelUnreachableTimeoutMs", what),
    },
  };
}

function requireId(id: unknown, what: string): string {
  return check.string(id, "threadId", what) as string;
}

/** A directory that exists, as a `cwd` must be; `shown` is the value as the caller gave it. */
function directory(dir: string, name: string, what: string, shown = dir): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw invalidArgument(`${what}: ${name} ${JSON.stringify(shown)} does not exist`);
  }
  if (!stat.isDirectory()) throw invalidArgument(`${what}: ${name} ${JSON.stringify(shown)} is not a directory`);
}

/** Params of a protocol request, checked against the pinned schema's names for it. */
function protocolParams<T>(method: string, params: T | undefined, what: string, exclude: string[] = []): T {
  const allowed = (REQUEST_PARAMS[method] ?? []).filter((k) => !exclude.includes(k));
  return check.options(params, what, allowed) as T;
}
