// The bottom of a terminal while a goal runs: the agent's unfinished line of text, what the user is
// typing, and one status line, each kept to a single row and redrawn in place. Finished lines of text
// go above them and scroll as usual. Only rows drawn here are ever erased, so a resize or a narrow
// terminal cannot make the redraw eat the transcript.
import stringWidth from "string-width";

const segmenter = new Intl.Segmenter();

/** The first graphemes of `text` that fit in `width` columns, with "…" when cut. */
export function head(text, width) {
  if (stringWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

/** The last graphemes of `text` that fit in `width` columns, with "…" when cut. */
export function tail(text, width) {
  if (stringWidth(text) <= width) return text;
  const graphemes = [...segmenter.segment(text)].map((s) => s.segment);
  let out = "";
  let used = 0;
  for (let i = graphemes.length - 1; i >= 0; i--) {
    const w = stringWidth(graphemes[i]);
    if (used + w > width - 1) break;
    out = graphemes[i] + out;
    used += w;
  }
  return `…${out}`;
}

export class Screen {
  #out;
  #style;
  #partial = "";
  #input = null;
  #status = "";
  #drawn = 0;

  /** `style(status)` decorates the status row (colour), after it was fitted to the width. */
  constructor(out, style = (s) => s) {
    this.#out = out;
    this.#style = style;
  }

  /** Agent text: finished lines go above, the unfinished one stays in the bottom rows. */
  text(chunk) {
    const lines = (this.#partial + chunk).split("\n");
    this.#partial = lines.pop();
    this.#draw(lines.map((l) => `${l}\n`).join(""));
  }

  /** A line of its own above the bottom rows, after any unfinished text. */
  line(text) {
    const partial = this.#partial;
    this.#partial = "";
    this.#draw(`${partial ? `${partial}\n` : ""}${text}\n`);
  }

  /** Ends an unfinished line of text, if there is one. */
  endText() {
    const partial = this.#partial;
    this.#partial = "";
    if (partial) this.#draw(`${partial}\n`);
  }

  status(text) {
    this.#status = text;
    this.#draw("");
  }

  /** What the user is typing; null hides the row. */
  input(text) {
    this.#input = text;
    this.#draw("");
  }

  /** Leaves the transcript as it is and the cursor on a fresh line, with no bottom rows. */
  close() {
    const partial = this.#partial;
    this.#partial = "";
    this.#input = null;
    this.#status = "";
    this.#draw(partial ? `${partial}\n` : "");
  }

  #draw(above) {
    const width = Math.max((this.#out.columns || 80) - 1, 10);
    const rows = [];
    if (this.#partial) rows.push(tail(this.#partial, width));
    if (this.#input !== null) rows.push(tail(`› ${this.#input}`, width));
    if (this.#status) rows.push(this.#style(head(this.#status, width)));
    const erase = this.#drawn ? `\r\x1b[2K${"\x1b[1A\x1b[2K".repeat(this.#drawn - 1)}` : "";
    this.#drawn = rows.length;
    this.#out.write(erase + above + rows.join("\n"));
  }
}
