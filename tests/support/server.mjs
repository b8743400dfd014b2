// A real app-server the test starts itself, listening on a WebSocket (with a capability token) or a
// unix socket, for the suites of Codex.connect(); and a loopback TCP relay of the test's own to put
// between client and server, whose sockets a test can cut to drop the connection.
import { execFile, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";
import path from "node:path";
import { resolveCodexPath } from "../../index.mjs";
import { makeCodexHome } from "./codex-home.mjs";
import { startMockModel } from "./mock-model.mjs";

/**
 * Starts the scripted model and `codex app-server --listen <listen>` on a private CODEX_HOME.
 * `listen`: "ws" (loopback, free port, capability token), "unix" (a socket path of the test's) or
 * "unix-default" (`unix://`: the control socket under CODEX_HOME), or "daemon" (`codex app-server daemon
 * start`, serving that same socket).
 */
export async function startServer(listen, script = [], modelOptions) {
  const model = await startMockModel(script, modelOptions);
  const home = makeCodexHome(model.url);
  if (listen === "daemon") return startDaemon(model, home);
  const token = `tok-${Math.random().toString(36).slice(2)}`;
  const tokenFile = path.join(home.dir, "token");
  fs.writeFileSync(tokenFile, token);
  const socketPath = path.join(home.dir, "s.sock");
  const args = {
    ws: ["--listen", "ws://127.0.0.1:0", "--ws-auth", "capability-token", "--ws-token-file", tokenFile],
    unix: ["--listen", `unix://${socketPath}`],
    "unix-default": ["--listen", "unix://"],
  }[listen];
  const child = spawn(resolveCodexPath(), ["app-server", ...args], { env: { ...process.env, ...home.env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const exited = new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`app-server exited ${code}: ${stderr}`))));
  exited.catch(() => {});
  // A ws listener prints its address; a unix one prints nothing, so its socket file is awaited.
  const printed = new Promise((resolve) => {
    child.stderr.on("data", (d) => {
      stderr += d;
      const m = stderr.match(/listening on: (ws:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
  });
  const socket = listen === "unix" ? socketPath : path.join(home.dir, "app-server-control", "app-server-control.sock");
  const appeared = async () => {
    for (let i = 0; i < 300 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
    if (!fs.existsSync(socket)) throw new Error(`no socket at ${socket} after 6 s: ${stderr}`);
    return null;
  };
  const printedInTime = () => {
    let timer;
    return Promise.race([
      printed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`app-server printed no address in 10 s: ${stderr}`)), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
  };
  const listening = await Promise.race([listen === "ws" ? printedInTime() : appeared(), exited]);
  const url = listen === "ws" ? listening : listen === "unix" ? `unix://${socketPath}` : "unix://";
  return {
    url,
    token: listen === "ws" ? token : undefined,
    tokenFile: listen === "ws" ? tokenFile : undefined,
    home,
    model,
    pid: child.pid,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
      await model.close();
      home.cleanup();
    },
  };
}

/** `codex app-server daemon start` on the private CODEX_HOME: a background server on its control
 * socket, as users run it (the daemon copies the codex binary under CODEX_HOME first). */
async function startDaemon(model, home) {
  const daemon = (command) =>
    new Promise((resolve, reject) =>
      execFile(resolveCodexPath(), ["app-server", "daemon", command], { env: { ...process.env, ...home.env }, timeout: 30_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`daemon ${command}: ${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
      ),
    );
  const started = await daemon("start");
  return {
    url: "unix://",
    token: undefined,
    home,
    model,
    pid: started.pid,
    alive: () => {
      try {
        process.kill(started.pid, 0);
        return true;
      } catch {
        return false;
      }
    },
    async stop() {
      await daemon("stop").catch(() => {});
      // `daemon stop` leaves its updater running, and the socket it served in /tmp/codex-daemon-<uid>/.
      spawnSync("pkill", ["-f", home.dir]);
      const link = path.join(home.dir, "app-server-control", "app-server-control.sock");
      try {
        const target = fs.readlinkSync(link);
        for (const f of [target, `${target}.lock`]) fs.rmSync(f, { force: true });
      } catch {}
      await model.close();
      home.cleanup();
    },
  };
}

/** A loopback TCP relay to `target` (ws://127.0.0.1:PORT). `cut()` destroys every connection;
 * `refuse(true)` makes new ones fail at once; `nextAccept()` resolves when it next takes one;
 * `retarget(url)` sends new connections elsewhere; `close()` stops it for good. */
export async function startRelay(target) {
  let port = Number(new URL(target).port);
  const sockets = new Set();
  let refusing = false;
  let accepted = 0;
  const acceptWaiters = [];
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    accepted += 1;
    for (const s of splice(client, port)) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    for (const w of acceptWaiters.splice(0)) w();
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    get accepted() {
      return accepted;
    },
    cut() {
      for (const s of sockets) s.destroy();
    },
    refuse(on) {
      refusing = on;
    },
    nextAccept() {
      return new Promise((resolve) => acceptWaiters.push(resolve));
    },
    retarget(url) {
      port = Number(new URL(url).port);
    },
    close() {
      refusing = true;
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

/** A TLS-terminating proxy to `target` (ws://127.0.0.1:PORT), as a wss:// front end would be, with a
 * certificate for localhost signed by a private CA made here (openssl); `caFile` holds the CA. */
export async function startTlsProxy(target, dir) {
  const run = (...args) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.error?.message ?? r.stderr}`);
  };
  fs.writeFileSync(path.join(dir, "leaf.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=codex-sdk test CA");
  run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost");
  run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext");
  const port = Number(new URL(target).port);
  const read = (f) => fs.readFileSync(path.join(dir, f));
  const server = tls.createServer({ key: read("leaf.key"), cert: read("leaf.pem") }, (client) => splice(client, port));
  server.on("tlsClientError", () => {});
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `wss://localhost:${server.address().port}`,
    caFile: path.join(dir, "ca.pem"),
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Joins `client` to a new connection to 127.0.0.1:`port`, both ways; returns the two sockets. A
 * reset on either side only ends them. */
function splice(client, port) {
  const upstream = net.connect(port, "127.0.0.1");
  for (const s of [client, upstream]) s.on("error", () => {});
  client.pipe(upstream).pipe(client);
  return [client, upstream];
}
