// Stop strings over streamed text: emits text as it becomes safe (never a prefix of a stop string
// that the next token could complete) and reports the first stop string found; the stop string
// itself is not part of the output, as in the OpenAI API.

export interface StopResult {
  /** Text safe to emit now. */
  text: string;
  /** The stop string matched, if any; generation must end. */
  stopped: string | undefined;
}

export class StopMatcher {
  private readonly stops: readonly string[];
  private readonly holdBack: number;
  private pending = '';

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
    this.holdBack = Math.max(0, ...this.stops.map((s) => s.length - 1));
  }

  push(text: string): StopResult {
    if (this.stops.length === 0) return { text, stopped: undefined };
    this.pending += text;
    let first = -1;
    let matched: string | undefined;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
        matched = stop;
      }
    }
    if (matched !== undefined) {
      const out = this.pending.slice(0, first);
      this.pending = '';
      return { text: out, stopped: matched };
    }
    // Keep the longest tail that is a prefix of some stop string.
    let keep = 0;
    for (let k = Math.min(this.holdBack, this.pending.length); k > 0; k--) {
      const tail = this.pending.slice(this.pending.length - k);
      if (this.stops.some((s) => s.startsWith(tail))) {
        keep = k;
        break;
      }
    }
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return { text: out, stopped: undefined };
  }

  /** Releases held-back text at the end of generation. */
  flush(): string {
    const out = this.pending;
    this.pending = '';
    return out;
  }
}
