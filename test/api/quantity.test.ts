import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatBytes,
  formatMillicores,
  isQuantity,
  parseQuantity,
  quantityToBytes,
  quantityToMillicores,
} from '../../src/api/index.ts';

describe('quantities', () => {
  it('parses binary and decimal suffixes', () => {
    expect(quantityToBytes('4Gi')).toBe(4 * 2 ** 30);
    expect(quantityToBytes('512Mi')).toBe(512 * 2 ** 20);
    expect(quantityToBytes('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(quantityToBytes('2G')).toBe(2e9);
    expect(quantityToBytes(1024)).toBe(1024);
    expect(quantityToMillicores('500m')).toBe(500);
    expect(quantityToMillicores('2')).toBe(2000);
    expect(quantityToMillicores(3)).toBe(3000);
    expect(parseQuantity('.5')).toBe(0.5);
  });

  it('refuses malformed values', () => {
    for (const bad of ['', '4 Gi', '-1', '1e3', 'Gi', '4gi', '1.']) {
      expect(isQuantity(bad)).toBe(false);
      expect(() => parseQuantity(bad)).toThrow(/invalid quantity/);
    }
    expect(() => parseQuantity(-1)).toThrow(/invalid quantity/);
  });

  it('formats bytes in the largest exact unit', () => {
    expect(formatBytes(0)).toBe('0');
    expect(formatBytes(17 * 2 ** 30)).toBe('17Gi');
    expect(formatBytes(1536 * 2 ** 20)).toBe('1536Mi');
    expect(formatBytes(1000)).toBe('1000');
    expect(formatMillicores(2000)).toBe('2');
    expect(formatMillicores(1500)).toBe('1500m');
  });

  it('round-trips formatted bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (n) => {
        expect(quantityToBytes(formatBytes(n))).toBe(n);
      }),
    );
  });
});
