// Public API of the operator.
export { Operator, loadKubeConfig, ownerKey, type OperatorOptions } from './manager.ts';
export { Reconciler } from './reconciler.ts';
export { errorPolicy } from './errors.ts';
export type { PlannerPort } from './plan.ts';
