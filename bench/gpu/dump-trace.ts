// Writes the serving bench's seeded trace (bench/serve/trace.ts) as JSON, for
// bench/gpu/replay_trace.py to replay over HTTP on a GPU machine that has no Node to generate it.
//   node bench/gpu/dump-trace.ts --out trace.json --seed 42 --duration 60 --base-rate 2 --burst-rate 8
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeTrace } from '../serve/trace.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    seed: { type: 'string', default: '42' },
    duration: { type: 'string', default: '60' },
    'base-rate': { type: 'string', default: '2' },
    'burst-rate': { type: 'string', default: '8' },
  },
});
if (values.out === undefined) throw new Error('--out: required');
const options = {
  seed: Number(values.seed),
  durationS: Number(values.duration),
  baseRate: Number(values['base-rate']),
  burstRate: Number(values['burst-rate']),
};
const flags: [string, number][] = [
  ['--seed', options.seed],
  ['--duration', options.durationS],
  ['--base-rate', options.baseRate],
  ['--burst-rate', options.burstRate],
];
for (const [flag, v] of flags) {
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`${flag}: must be a number > 0`);
}
const trace = makeTrace(options);
writeFileSync(values.out, `${JSON.stringify({ ...options, requests: trace })}\n`);
process.stdout.write(`${trace.length} requests over ${options.durationS} s -> ${values.out}\n`);
