// Public API of src/api: the SelectNDeployment resource, its CRD, the pod environment and the
// operator<->pod wire formats. Imports only zod and js-yaml.
export * from './constants.ts';
export * from './quantity.ts';
export * from './deployment.ts';
export * from './wire.ts';
export * from './env.ts';
export * from './crd.ts';
