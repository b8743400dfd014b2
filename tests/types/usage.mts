// Compiled with `tsc --strict` by the test suite: the public API as a TypeScript user writes it.
// It is never run; a type error anywhere here fails the build.
import {
  Codex,
  CodexError,
  CodexRpcError,
  TimeoutError,
  TransportClosedError,
  TurnFailedError,
  GoalHandle,
  type Notification,
  type ThreadGoal,
  type ThreadInfo,
  type TurnResult,
  type ServerRequest,
  type LoginHandle,
} from "codex-app-server-sdk";

export async function usage(): Promise<void> {
  await using codex = await Codex.start({
    config: { model: "o3", "features.x": true },
    env: { RUST_LOG: "warn" },
    clientInfo: { name: "app", version: "1.0.0" },
    startupTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
    onServerRequest: async (request: ServerRequest, { signal }) => {
      signal.throwIfAborted();
      if (request.method === "item/commandExecution/requestApproval") {
        const command: string | null | undefined = request.params.command;
        return { decision: command ? "accept" : "decline" };
      }
      return null;
    },
  });
  const version: string | null = codex.metadata.serverVersion;
  const pid: number | null = codex.pid;
  void version, pid;

  const thread = await codex.startThread({ cwd: "/tmp" });
  const turn = await thread.turn("hello", { model: "o3", signal: AbortSignal.timeout(1000) });
  for await (const n of turn) {
    if (n.method === "item/agentMessage/delta") {
      const delta: string = n.params.delta;
      void delta;
    } else if (n.method === "turn/completed") {
      const status: string = n.params.turn.status;
      void status;
    }
  }
  await turn.steer([{ type: "text", text: "more" }, { type: "localImage", path: "/x.png" }]);
  await turn.interrupt();
  const result: TurnResult = await turn.result();
  const final: string | null = result.finalResponse;
  const total: number | undefined = result.usage?.totalTokens;
  const goal: ThreadGoal | null = result.goal;
  void final, total, goal;

  try {
    await thread.run({ type: "text", text: "again" });
  } catch (err) {
    if (err instanceof TurnFailedError) console.log(err.result.error?.message, err.code);
    else if (err instanceof CodexRpcError) console.log(err.rpcCode, err.method, err.data);
    else if (err instanceof TransportClosedError) console.log(err.exitCode, err.signal, err.stderrTail);
    else if (err instanceof TimeoutError || err instanceof CodexError) console.log(err.code);
  }

  const info: ThreadInfo = await thread.read({ includeTurns: true });
  const again: ThreadInfo = await codex.readThread(info.id);
  await thread.setName("named");
  await thread.compact();
  const g: ThreadGoal | null = await thread.getGoal();
  const cleared: boolean = await thread.clearGoal();
  void again, g, cleared;

  const run: GoalHandle = await thread.goal("ship it", { tokenBudget: 10_000, startTimeoutMs: 5_000, signal: AbortSignal.timeout(60_000) });
  const ids: readonly string[] = run.turnIds;
  const snapshot: ThreadGoal | null = run.goal;
  for await (const n of run) if (n.method === "thread/goal/updated") console.log(n.params.goal.tokensUsed);
  await run.steer("focus on tests");
  await run.interrupt();
  await run.cancel();
  const goalResult: TurnResult = await run.result();
  const again2: TurnResult = await thread.runGoal("again");
  const paused: ThreadGoal = await thread.pauseGoal();
  void ids, snapshot, goalResult.turnIds, again2.goal?.status, paused.status;

  // A goal run followed from anywhere, and a paused goal resumed as a new run.
  const attached: GoalHandle = await thread.attachGoal({ signal: AbortSignal.timeout(10_000) });
  const followed: TurnResult = await attached.result();
  const resumedRun: GoalHandle = await thread.resumeGoal({ tokenBudget: 50_000, startTimeoutMs: 5_000 });
  const unlimited: GoalHandle = await thread.resumeGoal({ tokenBudget: null });
  const codes: CodexError["code"][] = ["ERR_NO_GOAL", "ERR_GOAL_COMPLETE", "ERR_MODEL_UNREACHABLE", "ERR_STREAM_CONSUMED"];
  void followed.turnIds, resumedRun.id, unlimited.goal, codes;
  await Codex.start({ modelUnreachableTimeoutMs: 120_000 });

  const list = await codex.listThreads({ limit: 10 });
  for (const t of list.data) console.log(t.id);
  const forked = await codex.forkThread(thread.id);
  const resumed = await codex.resumeThread(forked.id);
  await codex.archiveThread(resumed.id);
  await codex.unarchiveThread(resumed.id);
  const models = await codex.models({ includeHidden: true });
  console.log(models.data.length);
  const account = await codex.account({ refreshToken: false });
  console.log(account.requiresOpenaiAuth);
  await codex.loginApiKey("sk-...");
  const login: LoginHandle = await codex.loginChatgptDeviceCode();
  console.log(login.verificationUrl, login.userCode);
  await login.wait({ timeoutMs: 60_000 });
  await login.cancel();
  await codex.logout();

  const started = await codex.request("thread/start", {});
  const id: string = started.thread.id;
  const anything = await codex.request<{ ok: boolean }>("x/custom", { a: 1 }, { timeoutMs: 5, signal: AbortSignal.timeout(5) });
  const ok: boolean = anything.ok;
  void id, ok;

  for await (const n of codex.notifications({ signal: AbortSignal.timeout(10) })) {
    const typed: Notification = n;
    if (typed.method === "thread/goal/updated") console.log(typed.params.goal.status);
  }
  await codex.close();
}

export async function connecting(token: string): Promise<void> {
  const daemon = await Codex.connect({ url: "unix://", codexHome: "/home/me/.codex" });
  const pid: number | null = daemon.pid;
  void pid;
  await daemon.close();
  const remote = await Codex.connect({
    url: "wss://codex.example.com",
    token,
    reconnect: { attempts: 3, maxDelayMs: 2_000 },
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 60_000,
    onServerRequest: async () => ({ decision: "decline" }),
  });
  const thread = await remote.startThread();
  await thread.runGoal("ship it");
  try {
    await Codex.connect({ url: "ws://10.0.0.2:4500", token, allowInsecure: true, reconnect: false });
  } catch (err) {
    if (err instanceof CodexError && (err.code === "ERR_AUTH" || err.code === "ERR_CONNECT")) console.log(err.message);
  }
  // @ts-expect-error: the url is required
  await Codex.connect({ token });
  // @ts-expect-error: spawning options do not apply to a connection
  await Codex.connect({ url: "unix://", codexPath: "/usr/bin/codex" });
}
