#!/usr/bin/env node
// A fake app-server that reads its input and never answers: the handshake can only time out.
process.stdin.resume();
setInterval(() => {}, 1 << 30);
