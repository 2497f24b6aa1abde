// Brute-force discrete-event simulation of one iteration, written independently of the O(L)
// timeline: a compute stream, one copy engine, S staging slots handed out as they free up.

export interface EventSimInput {
  computeMs: readonly number[];
  offloaded: readonly number[];
  copyMs: number;
  slots: number;
  outsideLayersMs: number;
}

export function simulateIterationEvents(input: EventSimInput): {
  iterationMs: number;
  stallMs: number;
} {
  const L = input.computeMs.length;
  const isOffloaded = new Set(input.offloaded);
  const copied = new Set<number>();
  const slotHolder: (number | null)[] = Array.from({ length: input.slots }, () => null);
  const pendingCopies = [...input.offloaded].sort((a, b) => a - b);
  let now = 0;
  let copyBusyUntil: number | null = null;
  let copyingLayer = -1;
  let computeBusyUntil: number | null = null;
  let nextLayer = 0;
  let runningLayer = -1;
  let lastEnd = 0;
  for (let guard = 0; guard < 100_000; guard++) {
    // Complete whatever finishes now.
    if (copyBusyUntil !== null && copyBusyUntil <= now) {
      copied.add(copyingLayer);
      copyBusyUntil = null;
    }
    if (computeBusyUntil !== null && computeBusyUntil <= now) {
      const freed = slotHolder.indexOf(runningLayer);
      if (freed >= 0) slotHolder[freed] = null;
      lastEnd = computeBusyUntil;
      computeBusyUntil = null;
    }
    // Start whatever can start now.
    if (copyBusyUntil === null && pendingCopies.length > 0) {
      const free = slotHolder.indexOf(null);
      if (free >= 0) {
        copyingLayer = pendingCopies.shift() as number;
        slotHolder[free] = copyingLayer;
        copyBusyUntil = now + input.copyMs;
      }
    }
    if (computeBusyUntil === null && nextLayer < L) {
      if (!isOffloaded.has(nextLayer) || copied.has(nextLayer)) {
        runningLayer = nextLayer;
        computeBusyUntil = now + (input.computeMs[nextLayer] ?? 0);
        nextLayer++;
        continue; // a zero-length layer may finish at once
      }
    }
    if (nextLayer >= L && computeBusyUntil === null) break;
    const times = [copyBusyUntil, computeBusyUntil].filter((t): t is number => t !== null);
    if (times.length === 0) throw new Error('deadlock in event simulation');
    now = Math.min(...times);
  }
  const compute = input.computeMs.reduce((s, c) => s + c, 0);
  return { iterationMs: lastEnd + input.outsideLayersMs, stallMs: lastEnd - compute };
}
