// A scripted stand-in for the OpenAI Responses API on loopback. Each POST /v1/responses takes the next
// entry of the script; an entry is a list of SSE events ({ type, ...data }), or a function of the request
// body returning one (or a promise of one). Helpers below build the common turns.
import http from "node:http";

let responseCounter = 0;

export function message(text, { phase } = {}) {
  const id = `msg_${++responseCounter}`;
  const item = { type: "message", role: "assistant", id, content: [{ type: "output_text", text, annotations: [] }] };
  if (phase) item.phase = phase;
  return item;
}

export function functionCall(name, args) {
  const n = ++responseCounter;
  return { type: "function_call", id: `fc_${n}`, call_id: `call_${n}`, name, arguments: JSON.stringify(args) };
}

/** One model response: output items streamed as added/delta/done, then response.completed. */
export function reply(items, { usage = { input_tokens: 10, output_tokens: 5, total_tokens: 15 }, deltas = true } = {}) {
  const id = `resp_${++responseCounter}`;
  const list = Array.isArray(items) ? items : [items];
  const events = [{ type: "response.created", response: { id } }];
  for (const item of list) {
    const item0 = typeof item === "string" ? message(item) : item;
    events.push({ type: "response.output_item.added", item: item0.type === "message" ? { ...item0, content: [] } : item0 });
    if (deltas && item0.type === "message") {
      for (const part of item0.content) {
        for (const chunk of part.text.match(/.{1,8}/gs) ?? []) events.push({ type: "response.output_text.delta", item_id: item0.id, delta: chunk });
      }
    }
    events.push({ type: "response.output_item.done", item: item0 });
  }
  events.push({ type: "response.completed", response: { id, usage: { input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 }, ...usage } } });
  return events;
}

/** A response that fails with a model error. */
export function failure(message = "scripted failure", code = "server_error") {
  const id = `resp_${++responseCounter}`;
  return [{ type: "response.created", response: { id } }, { type: "response.failed", response: { id, error: { code, message } } }];
}

/** Starts the server. `script` entries are consumed in order; when empty, `fallback` answers. */
export async function startMockModel(script = [], { fallback = () => reply("ok") } = {}) {
  const queue = [...script];
  const requests = [];
  /** When each model request arrived, and for which thread and turn (from the request's metadata). */
  const arrivals = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      if (req.method === "GET" && req.url.startsWith("/v1/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ models: [] }));
        return;
      }
      if (req.method !== "POST" || !req.url.startsWith("/v1/responses")) {
        res.writeHead(404).end();
        return;
      }
      let parsed = null;
      try { parsed = JSON.parse(body); } catch {}
      requests.push(parsed);
      const meta = parsed?.client_metadata ?? {};
      arrivals.push({ at: Date.now(), threadId: meta.thread_id ?? null, turnId: meta.turn_id ?? null });
      for (const w of waiters.splice(0)) w();
      const entry = queue.length ? queue.shift() : fallback;
      let events;
      try {
        events = await (typeof entry === "function" ? entry(parsed, requests.length - 1) : entry);
      } catch (err) {
        res.writeHead(500).end(String(err));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (const ev of events) {
        if (ev.type === "wait") { await ev.promise; continue; }
        res.write(`event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`);
      }
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    arrivals,
    push: (...entries) => queue.push(...entries),
    /** Resolves once `n` model requests have arrived in total. */
    waitForRequests(n) {
      return new Promise((resolve) => {
        const check = () => (requests.length >= n ? resolve() : waiters.push(check));
        check();
      });
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/** A gate that holds a scripted response open until released: put `gate.event` among the events. */
export function gate() {
  let release;
  const promise = new Promise((r) => (release = r));
  return { event: { type: "wait", promise }, release };
}

/** Holds the response for `ms` milliseconds (the model "thinking"); build it per response. */
export function delay(ms) {
  return { type: "wait", promise: new Promise((r) => setTimeout(r, ms)) };
}

/** The goal tool call that ends a run: `update_goal` with this status. */
export function goalStatus(status, options) {
  return reply([functionCall("update_goal", { status })], options);
}
