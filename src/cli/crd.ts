// `selectn crd`: prints the SelectNDeployment CRD generated from src/api, writes it to crds/ and
// the chart (--write), or checks that the committed copies are up to date (--check).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CRD_FILES, renderCrdYaml } from '../api/index.ts';
import { UsageError } from './errors.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface CrdOptions {
  write?: boolean;
  check?: boolean;
  root: string;
}

export function registerCrd(program: Command): void {
  program
    .command('crd')
    .description(
      'print the SelectNDeployment CRD generated from the schemas (or --write / --check it)',
    )
    .option('--write', `write it to ${CRD_FILES.join(' and ')}`)
    .option('--check', 'exit 1 when a committed copy differs from a fresh generation')
    .option('--root <dir>', 'repository root', REPO_ROOT)
    .action((options: CrdOptions) => {
      if (options.write && options.check)
        throw new UsageError('--write and --check exclude each other');
      const text = renderCrdYaml();
      if (!options.write && !options.check) {
        process.stdout.write(text);
        return;
      }
      const stale: string[] = [];
      for (const file of CRD_FILES) {
        const path = join(options.root, file);
        if (options.write) {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, text);
          process.stderr.write(`wrote ${file}\n`);
        } else if (readOrEmpty(path) !== text) {
          stale.push(file);
        }
      }
      if (stale.length > 0) {
        throw new Error(`${stale.join(', ')} differ from the schemas; run \`selectn crd --write\``);
      }
    });
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
