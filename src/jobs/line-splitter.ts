const NEWLINE = 0x0a;
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Text as stored: invalid UTF-8 became U+FFFD in decoding; NUL (which some drivers cut at) too. */
function clean(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/** The largest cut ≤ `at` that does not split a UTF-8 sequence in `buf`. */
export function charBoundary(buf: Buffer, at: number): number {
  let cut = Math.min(at, buf.length);
  while (cut > 0 && cut < buf.length && (buf[cut] & 0xc0) === 0x80) cut--;
  return cut || at;
}

/**
 * Splits a byte stream into text made of whole lines: `push` emits every complete line received so
 * far (several at once, as one string), keeping a partial last line until its newline arrives or
 * `end()` is called. A line longer than `maxLineBytes` is emitted in pieces (cut on a character
 * boundary) so a stream without newlines cannot grow memory. Decoding happens on whole lines, so a
 * multi-byte character split across chunks survives; invalid bytes become U+FFFD.
 */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly emit: (text: string) => void, private readonly maxLineBytes = 64 * 1024) {}

  push(chunk: Buffer): void {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= 0) {
      const complete = chunk.subarray(0, last + 1);
      const block = this.partialBytes ? Buffer.concat([...this.partial, complete]) : complete;
      this.partial = [];
      this.partialBytes = 0;
      this.emit(clean(decoder.decode(block)));
      chunk = chunk.subarray(last + 1);
    }
    if (chunk.length) {
      this.partial.push(chunk);
      this.partialBytes += chunk.length;
    }
    while (this.partialBytes >= this.maxLineBytes) {
      const buf = Buffer.concat(this.partial);
      const cut = charBoundary(buf, this.maxLineBytes);
      this.emit(clean(decoder.decode(buf.subarray(0, cut))));
      const rest = buf.subarray(cut);
      this.partial = rest.length ? [rest] : [];
      this.partialBytes = rest.length;
    }
  }

  /** Emits the partial last line, if any (stored without a newline). */
  end(): void {
    if (!this.partialBytes) return;
    const buf = Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    this.emit(clean(decoder.decode(buf)));
  }
}
