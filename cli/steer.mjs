// Steering from stdin: every line read while the goal runs. On a terminal that also shows the live
// screen, keys are read raw so the typing has a row of its own (and Ctrl-C is ours to handle);
// anywhere else (a pipe, a file, a terminal under --json) plain lines.
import readline from "node:readline";

export function readSteers({ stdin, raw, onLine, onTyping, onInterrupt }) {
  if (raw) {
    readline.emitKeypressEvents(stdin);
    stdin.setRawMode(true);
    let typed = "";
    const onKey = (text, key = {}) => {
      if (key.ctrl && key.name === "c") return onInterrupt();
      if (key.name === "return" || key.name === "enter") {
        const line = typed.trim();
        typed = "";
        onTyping(null);
        if (line) onLine(line);
        return;
      }
      if (key.name === "backspace") typed = [...new Intl.Segmenter().segment(typed)].slice(0, -1).map((s) => s.segment).join("");
      else if (key.ctrl && key.name === "u") typed = "";
      else if (key.ctrl || key.meta || !text || /[\x00-\x1f\x7f]/.test(text)) return;
      else typed += text;
      onTyping(typed || null);
    };
    stdin.on("keypress", onKey);
    stdin.resume();
    const restore = () => stdin.isRaw && stdin.setRawMode(false);
    process.once("exit", restore);
    return {
      close() {
        stdin.off("keypress", onKey);
        restore();
        stdin.pause();
      },
    };
  }
  const lines = readline.createInterface({ input: stdin, terminal: false });
  lines.on("line", (line) => {
    if (line.trim()) onLine(line.trim());
  });
  // A closed or broken stdin only means no more steering.
  stdin.on("error", () => {});
  return {
    close() {
      lines.close();
      stdin.pause();
    },
  };
}
