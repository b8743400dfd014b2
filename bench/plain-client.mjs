// The baseline: the plain Node client an app would otherwise write — child_process, readline,
// JSON.parse per line, a pending-request map — doing the same calls as the SDK.
import { spawn } from "node:child_process";
import readline from "node:readline";

export class PlainClient {
  static async start(command, args = ["app-server"], env = {}) {
    const c = new PlainClient(spawn(command, args, { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...env } }));
    await c.request("initialize", { clientInfo: { name: "plain", version: "0" }, capabilities: { experimentalApi: true } });
    c.notify("initialized");
    return c;
  }

  constructor(child) {
    this.child = child;
    this.nextId = 0;
    this.pending = new Map();
    this.listeners = new Set();
    readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => {
      const msg = JSON.parse(line);
      if (msg.id !== undefined && msg.method === undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else if (msg.method !== undefined && msg.id === undefined) {
        for (const l of this.listeners) l(msg);
      }
    });
  }

  request(method, params) {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(JSON.stringify({ id, method, params }) + "\n");
    });
  }

  notify(method, params) {
    this.child.stdin.write(JSON.stringify(params === undefined ? { method } : { method, params }) + "\n");
  }

  on(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close() {
    this.child.stdin.end();
    return new Promise((r) => (this.child.exitCode !== null ? r() : this.child.once("exit", r)));
  }
}
