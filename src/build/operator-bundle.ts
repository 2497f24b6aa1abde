// Builds dist/selectn-operator.mjs: the operator as one ESM file (esbuild), from
// src/cli/selectn-operator.ts. `npm run build` runs it; the demo, the end-to-end tests and the
// scale benchmark call buildOperatorBundle() first, so they never run a stale bundle.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const OPERATOR_BUNDLE = fileURLToPath(
  new URL('../../dist/selectn-operator.mjs', import.meta.url),
);
const ENTRY = fileURLToPath(new URL('../cli/selectn-operator.ts', import.meta.url));

/**
 * Bundles the operator; returns the bundle's path. Takes about two seconds. The image build writes
 * its own copy (`outfile`, no source map), so it never races a test reading dist/.
 */
export async function buildOperatorBundle(
  options: { readonly outfile?: string; readonly sourcemap?: boolean } = {},
): Promise<string> {
  const outfile = options.outfile ?? OPERATOR_BUNDLE;
  await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: options.sourcemap === false ? false : 'linked',
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require(), which an ES module does not have.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  return outfile;
}

if (import.meta.main) {
  process.stdout.write(`${await buildOperatorBundle()}\n`);
}
