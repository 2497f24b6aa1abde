import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StopMatcher } from '../../src/server/openai/stop-matcher.ts';

describe('StopMatcher', () => {
  it('holds back a possible prefix and cuts at the stop string', () => {
    const m = new StopMatcher(['END']);
    expect(m.push('abc E')).toEqual({ text: 'abc ', stopped: undefined });
    expect(m.push('N')).toEqual({ text: '', stopped: undefined });
    expect(m.push('Dtail')).toEqual({ text: '', stopped: 'END' });
  });

  it('releases held text when the prefix does not continue', () => {
    const m = new StopMatcher(['END']);
    expect(m.push('xE').text).toBe('x');
    expect(m.push('x').text).toBe('Ex');
    expect(m.flush()).toBe('');
  });

  it('emits exactly the text before the first stop, however the text is split (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'ab', 'ba'), { maxLength: 20 }),
        fc.constantFrom('ab', 'bab', 'cc'),
        (pieces, stop) => {
          const m = new StopMatcher([stop]);
          let out = '';
          let stopped = false;
          for (const p of pieces) {
            const r = m.push(p);
            out += r.text;
            if (r.stopped !== undefined) {
              stopped = true;
              break;
            }
          }
          if (!stopped) out += m.flush();
          const full = pieces.join('');
          const at = full.indexOf(stop);
          expect(out).toBe(at >= 0 ? full.slice(0, at) : full);
          expect(stopped).toBe(at >= 0);
        },
      ),
    );
  });
});
