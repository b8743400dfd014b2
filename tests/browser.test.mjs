// The browser build in a real browser: headless Chromium (Debian's package, driven by
// playwright-core, no browser download) loads `codex-app-server-sdk/wasm` as a page would, while
// this Node process runs a goal on the real app-server and relays its notifications one by one
// over Server-Sent Events — the shape of an Electron main process feeding its renderer. The
// page's result must equal the native TurnResult.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { withCodex } from "./support/harness.mjs";
import { goalStatus, reply } from "./support/mock-model.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const browserPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };

/** Serves the page, the package's files under /pkg/, and the relayed notifications at /events. */
async function serve(threadNotifications) {
  const clients = new Set();
  const sent = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (const line of sent) res.write(`data: ${line}\n\n`);
      clients.add(res);
      req.on("close", () => clients.delete(res));
      return;
    }
    const file = url.pathname === "/" ? path.join(root, "tests/browser/page.html") : path.join(root, url.pathname.replace(/^\/pkg\//, ""));
    if (!file.startsWith(root) || !fs.existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  (async () => {
    for await (const n of threadNotifications) {
      const line = JSON.stringify(n);
      sent.push(line); // a page that connects late still gets everything, in order
      for (const c of clients) c.write(`data: ${line}\n\n`);
    }
  })().catch(() => {});
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

test("Chromium aggregates a live goal with the wasm build and gets the native result", {
  timeout: 90_000,
  skip: fs.existsSync(browserPath) ? false : `no Chromium at ${browserPath} (apt-get install chromium, or set CHROMIUM_PATH)`,
}, () =>
  withCodex([reply("Step one done."), goalStatus("complete"), reply("All done.")], async ({ codex }) => {
    const thread = await codex.startThread();
    const ac = new AbortController();
    const all = codex.notifications({ signal: ac.signal });
    const relay = (async function* () {
      for await (const n of all) if ((n.params?.threadId ?? n.params?.thread?.id) === thread.id) yield n;
    })();
    const site = await serve(relay);
    const browser = await chromium.launch({
      executablePath: browserPath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(e));
      await page.goto(`${site.url}/?thread=${thread.id}`);
      await page.waitForFunction(() => window.ready === true);
      const native = await thread.runGoal("ship it");
      await page.waitForFunction(() => window.result !== undefined, null, { timeout: 30_000 });
      const fromPage = await page.evaluate(() => window.result);
      assert.deepEqual(errors, []);
      assert.deepEqual(fromPage, native, "the page's TurnResult equals the native one");
      const methods = await page.evaluate(() => window.logical.map((n) => n.method));
      assert.equal(methods[0], "turn/started");
      assert.equal(methods.at(-1), "turn/completed");
      assert.equal(methods.filter((m) => m === "turn/started").length, 1);
    } finally {
      await browser.close();
      ac.abort();
      await site.close();
    }
  }));
