// Which model the API tests serve. (Interim: deterministic executor until the engine lands.)
export { deterministicLoader as fixtureLoader } from '../fixtures/deterministic-loader.ts';
export const FIXTURE_MODEL_NAME = 'det';
