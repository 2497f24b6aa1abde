import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { z } from 'zod';
import {
  CRD_FILES,
  buildCrd,
  collectCelRules,
  renderCrdYaml,
  specOpenApiSchema,
  statusOpenApiSchema,
  toOpenApi,
  toStructural,
  type SchemaNode,
} from '../../src/api/index.ts';
import { runCli } from '../cli/run-cli.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function isRecord(v: unknown): v is SchemaNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Walks a structural schema, calling visit(node, path) for every node. */
function walk(node: SchemaNode, visit: (n: SchemaNode, path: string) => void, path = ''): void {
  visit(node, path);
  const props = node['properties'];
  if (isRecord(props)) {
    for (const [k, v] of Object.entries(props)) if (isRecord(v)) walk(v, visit, `${path}.${k}`);
  }
  if (isRecord(node['items'])) walk(node['items'], visit, `${path}[*]`);
  if (isRecord(node['additionalProperties']))
    walk(node['additionalProperties'], visit, `${path}{*}`);
}

describe('generated CRD', () => {
  it('matches the committed copies (run `selectn crd --write` after changing src/api)', () => {
    const fresh = renderCrdYaml();
    for (const file of CRD_FILES) {
      expect(readFileSync(`${root}${file}`, 'utf8'), file).toBe(fresh);
    }
  });

  it('`selectn crd --check` agrees and `selectn crd` prints the same text', () => {
    expect(runCli(['crd', '--check']).code).toBe(0);
    const printed = runCli(['crd']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(renderCrdYaml());
  });

  it('`selectn crd --check` fails on a stale copy', () => {
    const result = runCli(['crd', '--check', '--root', '/nonexistent-root']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('selectn crd --write');
  });

  it('is a structural schema: every node typed, no $ref, no anyOf except int-or-string', () => {
    for (const schema of [specOpenApiSchema(), statusOpenApiSchema()]) {
      walk(schema, (node, path) => {
        for (const bad of ['$ref', 'oneOf', 'allOf', 'not', '$schema', 'definitions']) {
          expect(node[bad], `${path} has ${bad}`).toBeUndefined();
        }
        expect(node['additionalProperties'], path).not.toBe(false);
        if (node['x-kubernetes-int-or-string'] === true) {
          expect(node['anyOf']).toEqual([{ type: 'integer' }, { type: 'string' }]);
          expect(node['type']).toBeUndefined();
        } else {
          expect(node['anyOf'], path).toBeUndefined();
          expect(typeof node['type'], `${path} has no type`).toBe('string');
        }
        if (typeof node['pattern'] === 'string') {
          // Go's RE2 has no lookaround or backreferences.
          expect(node['pattern'], path).not.toMatch(/\(\?[=!<]|\\[1-9]/);
        }
      });
    }
  });

  it('documents every field of spec and status', () => {
    for (const schema of [specOpenApiSchema(), statusOpenApiSchema()]) {
      walk(schema, (node, path) => {
        if (path.includes('[*]') && !/\.[^.[\]{}]+$/.test(path)) return; // item roots
        if (path.includes('{*}')) return; // map values
        expect(typeof node['description'], `${path} lacks a description`).toBe('string');
      });
    }
  });

  it('has the names, subresources and printer columns the operator relies on', () => {
    const crd = buildCrd() as {
      spec: {
        group: string;
        scope: string;
        names: { kind: string; plural: string; shortNames: string[] };
        versions: {
          name: string;
          subresources: { scale: Record<string, string>; status: object };
          additionalPrinterColumns: { name: string; jsonPath: string }[];
        }[];
      };
    };
    expect(crd.spec.group).toBe('serving.selectn.dev');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toMatchObject({
      kind: 'SelectNDeployment',
      plural: 'selectndeployments',
    });
    expect(crd.spec.names.shortNames).toEqual(['sndep']);
    const version = crd.spec.versions[0];
    expect(version?.name).toBe('v1alpha1');
    expect(version?.subresources.scale).toEqual({
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.status.selector',
    });
    expect(version?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'Ready',
      'Interval',
      'SLO',
      'Age',
    ]);
    const status = statusOpenApiSchema() as { properties: Record<string, SchemaNode> };
    expect(status.properties['selector']?.['type']).toBe('string');
    // printer column paths exist in the status schema
    for (const col of version?.additionalPrinterColumns ?? []) {
      const parts = col.jsonPath.split('.').slice(1);
      if (parts[0] === 'metadata') continue;
      let node: SchemaNode | undefined = { properties: { status } };
      for (const part of parts) {
        const props: unknown = node?.['properties'];
        node = isRecord(props) && isRecord(props[part]) ? props[part] : undefined;
      }
      expect(node, col.jsonPath).toBeDefined();
    }
  });

  it('round-trips through YAML', () => {
    const parsed = load(renderCrdYaml());
    expect(parsed).toEqual(JSON.parse(JSON.stringify(buildCrd())));
  });

  it('carries defaults, enums and bounds', () => {
    const spec = specOpenApiSchema() as { properties: Record<string, SchemaNode> };
    expect(spec.properties['replicas']).toMatchObject({
      type: 'integer',
      minimum: 0,
      maximum: 1000,
      default: 1,
    });
    const slo = spec.properties['slo'] as {
      default: unknown;
      properties: Record<string, SchemaNode>;
    };
    expect(slo.default).toEqual({ ttftMs: 2000, tpotMs: 100, percentile: 99 });
    expect(slo.properties['ttftMs']).toMatchObject({
      minimum: 0,
      exclusiveMinimum: true,
      default: 2000,
    });
    const offload = spec.properties['offload'] as { properties: Record<string, SchemaNode> };
    expect(offload.properties['mode']?.['enum']).toEqual(['auto', 'fixed', 'disabled']);
  });
});

describe('CEL rules', () => {
  const rules = collectCelRules(specOpenApiSchema(), '.spec');

  it('cover the cross-field checks', () => {
    const paths = rules.map((r) => r.path);
    expect(paths).toContain('.spec.offload.interval');
    expect(paths).toContain('.spec.autoscaling');
    expect(paths).toContain('.spec.slo');
    expect(paths).toContain('.spec.model.source');
    expect(paths).toContain('.spec.offload');
    expect(paths).toContain('.spec.rollout');
  });

  it('are syntactically sensible: balanced, quoted, and naming only fields that exist', () => {
    const spec = specOpenApiSchema();
    for (const { path, rule, message } of rules) {
      expect(message.length, path).toBeGreaterThan(0);
      let depth = 0;
      const unquoted = rule.replace(/'[^']*'/g, "''");
      expect(rule.split("'").length % 2, `${path}: unbalanced quotes`).toBe(1);
      for (const ch of unquoted) {
        if (ch === '(') depth++;
        if (ch === ')') depth--;
        expect(depth, `${path}: ${rule}`).toBeGreaterThanOrEqual(0);
      }
      expect(depth, `${path}: ${rule}`).toBe(0);
      expect(unquoted).not.toMatch(/[^=!<>]=[^=]|&&\s*$|\|\|\s*$/); // no assignment, no dangling ops
      // resolve the node of the rule, then every self.a.b reference against it
      let node: SchemaNode | undefined = { properties: { spec } };
      for (const part of path.split('.').slice(1)) {
        const props: unknown = node?.['properties'];
        node = isRecord(props) && isRecord(props[part]) ? props[part] : undefined;
      }
      expect(node, path).toBeDefined();
      for (const ref of unquoted.matchAll(/self((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        let at: SchemaNode | undefined = node;
        for (const field of (ref[1] ?? '').split('.').slice(1)) {
          const props: unknown = at?.['properties'];
          at = isRecord(props) && isRecord(props[field]) ? props[field] : undefined;
          expect(at, `${path}: ${rule} names missing field ${field}`).toBeDefined();
        }
      }
    }
  });
});

describe('schema conversion', () => {
  it('refuses shapes a structural schema cannot express', () => {
    const union = z.object({ a: z.union([z.string(), z.number()]).describe('a') }).describe('x');
    expect(() => toStructural(toOpenApi(union))).toThrow(/\.a: "anyOf" is not allowed/);
    const undocumented = z.object({ a: z.string() }).describe('x');
    expect(() => toStructural(toOpenApi(undocumented))).toThrow(/\.a: field has no description/);
    const loose = z.object({ a: z.record(z.string(), z.unknown()).describe('a') }).describe('x');
    expect(() => toStructural(toOpenApi(loose))).toThrow(/preserve-unknown-fields/);
  });

  it('drops additionalProperties: false of strict objects', () => {
    const strict = z.strictObject({ a: z.string().describe('a') }).describe('x');
    expect(toStructural(toOpenApi(strict))['additionalProperties']).toBeUndefined();
  });
});
