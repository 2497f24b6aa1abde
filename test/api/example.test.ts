import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { SelectNDeploymentSchema } from '../../src/api/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('examples', () => {
  for (const file of readdirSync(`${root}examples`).filter((f) => f.endsWith('.yaml'))) {
    it(`${file} is a valid SelectNDeployment`, () => {
      const text = readFileSync(`${root}examples/${file}`, 'utf8').replaceAll(
        '__REPO__',
        root.replace(/\/$/, ''),
      );
      const result = SelectNDeploymentSchema.safeParse(load(text));
      expect(result.error?.issues ?? []).toEqual([]);
      const path = result.data?.spec.model.source.hostPath?.path;
      if (path !== undefined) expect(readdirSync(path).length).toBeGreaterThan(0);
    });
  }
});
