import { withSignal } from "./abort";
import { resolveCodexPath } from "./binary";
import { CodexError, native, TimeoutError } from "./errors";
import { lineIterator } from "./iterate";
import type { BindingClient } from "../binding/index";
import { binding } from "./native";
import { Thread } from "./thread";
import type {
  ClientRequestMap,
  ClientResponseMap,
  CodexOptions,
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
  /** The app-server process, when this client spawned it. */
  readonly pid: number | null;
  readonly #client: BindingClient;
  readonly #closing = new AbortController();
  /** Server requests handed to `onServerRequest` and not answered yet, by JSON of their id. */
  readonly #serverRequests = new Map<string, AbortController>();
  #closed: Promise<void> | null = null;

  private constructor(client: BindingClient, options: CodexOptions) {
    this.#client = client;
    this.metadata = JSON.parse(client.metadata()) as Metadata;
    this.pid = client.pid;
    const handler = options.onServerRequest;
    if (handler) client.setServerRequestHandler((line: string) => this.#onServerRequest(handler, line));
  }

  /** Spawns the app-server and completes the handshake within `startupTimeoutMs`. */
  static async start(options: CodexOptions = {}): Promise<Codex> {
    const client = await native(
      binding.startClient(
        JSON.stringify({
          codexPath: resolveCodexPath(options.codexPath),
          config: options.config ?? {},
          cwd: options.cwd,
          env: options.env ?? {},
          clientInfo: options.clientInfo,
          experimentalApi: options.experimentalApi ?? true,
          startupTimeoutMs: options.startupTimeoutMs ?? 30_000,
          requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
          serverRequestTimeoutMs: options.serverRequestTimeoutMs ?? 600_000,
        }),
      ),
    );
    return new Codex(client, options);
  }

  /** Ends the app-server (stdin closed, then TERM, then KILL) and settles everything pending. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closing.abort();
      this.#closed = native(this.#client.close());
    }
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Sends any request; resolves with its result. Bounded by `timeoutMs` (default `requestTimeoutMs`). */
  async request<M extends keyof ClientRequestMap>(method: M, params?: ParamsOf<M>, options?: RequestOptions): Promise<ResponseOf<M>>;
  async request<T = unknown>(method: string, params?: unknown, options?: RequestOptions): Promise<T>;
  async request(method: string, params?: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (typeof method !== "string" || method === "") throw new TypeError("request: method must be a non-empty string");
    if (options.signal?.aborted) return withSignal(Promise.resolve(), options.signal, method);
    const body = params === undefined ? null : JSON.stringify(params);
    const answer = native(this.#client.request(method, body, options.timeoutMs ?? null));
    return JSON.parse(await withSignal(answer, options.signal, method));
  }

  /** Every notification from now on, until the client closes (then it rejects `TransportClosedError`). */
  notifications(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<Notification> {
    const stream = this.#client.subscribe();
    return lineIterator<Notification>((max) => stream.next(max), () => stream.discard(), options.signal);
  }

  async startThread(params: ThreadStartParams = {}): Promise<Thread> {
    const r = await this.request("thread/start", params);
    return new Thread(this, r.thread.id);
  }

  async resumeThread(threadId: string, params: ThreadResumeOptions = {}): Promise<Thread> {
    const r = await this.request("thread/resume", { ...params, threadId: requireId(threadId, "resumeThread") });
    return new Thread(this, r.thread.id);
  }

  async forkThread(threadId: string, params: ThreadForkOptions = {}): Promise<Thread> {
    const r = await this.request("thread/fork", { ...params, threadId: requireId(threadId, "forkThread") });
    return new Thread(this, r.thread.id);
  }

  listThreads(params: ThreadListParams = {}): Promise<ThreadListResponse> {
    return this.request("thread/list", params);
  }

  async readThread(threadId: string, options: { includeTurns?: boolean } = {}): Promise<ThreadInfo> {
    const r = await this.request("thread/read", { threadId: requireId(threadId, "readThread"), includeTurns: options.includeTurns ?? false });
    return r.thread;
  }

  async archiveThread(threadId: string): Promise<void> {
    await this.request("thread/archive", { threadId: requireId(threadId, "archiveThread") });
  }

  async unarchiveThread(threadId: string): Promise<Thread> {
    const r = await this.request("thread/unarchive", { threadId: requireId(threadId, "unarchiveThread") });
    return new Thread(this, r.thread.id);
  }

  models(options: { includeHidden?: boolean } = {}): Promise<ModelListResponse> {
    return this.request("model/list", { includeHidden: options.includeHidden ?? false });
  }

  account(options: { refreshToken?: boolean } = {}): Promise<GetAccountResponse> {
    return this.request("account/read", { refreshToken: options.refreshToken ?? false });
  }

  /** Logs in with an API key; resolves once the server reports the login complete. */
  async loginApiKey(apiKey: string): Promise<void> {
    if (typeof apiKey !== "string" || apiKey === "") throw new TypeError("loginApiKey: apiKey must be a non-empty string");
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
      wait: (options: { signal?: AbortSignal; timeoutMs?: number } = {}) => {
        const { signal, timeoutMs } = options;
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

  #onServerRequest(handler: NonNullable<CodexOptions["onServerRequest"]>, line: string): void {
    const message = JSON.parse(line) as ServerRequest | { method: "serverRequest/resolved"; params: { requestId: string | number } };
    if (!("id" in message)) {
      // The server resolved it (its turn ended), or it timed out and got the default answer.
      this.#serverRequests.get(JSON.stringify(message.params.requestId))?.abort(new CodexError("the server request was resolved without this answer", "ERR_REQUEST_RESOLVED"));
      return;
    }
    const request = message;
    const id = JSON.stringify(request.id);
    const controller = new AbortController();
    this.#serverRequests.set(id, controller);
    const answer = (result: string | null, error: string | null) => {
      this.#serverRequests.delete(id);
      try {
        this.#client.respond(id, result, error);
      } catch {
        // The connection closed meanwhile; the request died with it.
      }
    };
    const signal = AbortSignal.any([this.#closing.signal, controller.signal]);
    Promise.resolve()
      .then(() => handler({ id: request.id, method: request.method, params: request.params } as ServerRequest, { signal }))
      .then(
        (result) => answer(JSON.stringify(result ?? null), null),
        (err) => answer(null, JSON.stringify({ code: -32603, message: `onServerRequest failed: ${err instanceof Error ? err.message : String(err)}` })),
      );
  }

  /** @internal */
  _binding(): BindingClient {
    return this.#client;
  }
}

function requireId(id: unknown, what: string): string {
  if (typeof id !== "string" || id === "") throw new TypeError(`${what}: threadId must be a non-empty string`);
  return id;
}
