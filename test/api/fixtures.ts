// Fixture builders for SelectNDeployment objects: a valid minimal input, and ways to bend it.
import type { SelectNDeploymentInput, SelectNDeploymentSpecInput } from '../../src/api/index.ts';
import { API_VERSION, KIND } from '../../src/api/index.ts';

export function specInput(
  overrides: Partial<SelectNDeploymentSpecInput> = {},
): SelectNDeploymentSpecInput {
  return {
    replicas: 2,
    model: { name: 'tiny-llama', source: { hostPath: { path: '/models/tiny-llama' } } },
    slo: { ttftMs: 500, tpotMs: 50 },
    ...overrides,
  };
}

export function deploymentInput(
  name = 'demo',
  spec: Partial<SelectNDeploymentSpecInput> = {},
  namespace = 'default',
): SelectNDeploymentInput {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1 },
    spec: specInput(spec),
  };
}
