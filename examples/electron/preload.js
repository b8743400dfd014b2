// The only bridge between the page and the main process: no Node APIs reach the renderer.
const { contextBridge, ipcRenderer } = require("electron");

contextBridge.exposeInMainWorld("codex", {
  startThread: () => ipcRenderer.invoke("codex:thread"),
  goal: (threadId, objective) => ipcRenderer.invoke("codex:goal", threadId, objective),
  onNotification: (fn) => ipcRenderer.on("codex:notification", (_event, n) => fn(n)),
});
