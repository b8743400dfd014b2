// Main process: owns the app-server through the native SDK and relays a thread's notifications to
// the renderer, which aggregates them with the wasm build. See docs/electron.md.
const path = require("node:path");
const { app, BrowserWindow, ipcMain } = require("electron");
const { Codex } = require("codex-app-server-sdk");

let codex;
const threads = new Map();

app.whenReady().then(async () => {
  codex = await Codex.start();

  // Step 1: a thread, with its relay in place before anything runs on it.
  ipcMain.handle("codex:thread", async (event) => {
    const thread = await codex.startThread();
    const stop = new AbortController();
    (async () => {
      for await (const n of codex.notifications({ signal: stop.signal })) {
        if ((n.params?.threadId ?? n.params?.thread?.id) === thread.id) event.sender.send("codex:notification", n);
      }
    })().catch(() => {});
    threads.set(thread.id, { thread, stop });
    return thread.id;
  });

  // Step 2: the goal, once the renderer has its aggregator ready.
  ipcMain.handle("codex:goal", async (_event, threadId, objective) => {
    const { thread, stop } = threads.get(threadId);
    const goal = await thread.goal(objective);
    goal.result().catch(() => {}).finally(() => {
      stop.abort();
      threads.delete(threadId);
    });
    return goal.id;
  });

  const win = new BrowserWindow({
    width: 900,
    height: 700,
    webPreferences: { preload: path.join(__dirname, "preload.js"), contextIsolation: true, nodeIntegration: false },
  });
  await win.loadFile(path.join(__dirname, "index.html"));
});

app.on("before-quit", () => codex?.close());
app.on("window-all-closed", () => app.quit());
