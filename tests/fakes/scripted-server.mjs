#!/usr/bin/env node
// A fake app-server for faults the real one cannot be made to show on demand: it answers
// `initialize` and `echo` (with its params), and never answers `hang`.
import readline from "node:readline";

const send = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const msg = JSON.parse(line);
  if (msg.method === "initialize") {
    send({ id: msg.id, result: { userAgent: "fake/0.0.1 (test)", codexHome: "/nonexistent", platformFamily: "unix", platformOs: "linux" } });
  } else if (msg.method === "echo") {
    send({ id: msg.id, result: msg.params ?? null });
  }
});
