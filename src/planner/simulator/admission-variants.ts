// The same admission option for every policy, so that scheduling gains and offloading gains can be
// told apart: a baseline in its real system's form admits by free KV blocks alone; wrapped here it
// admits as Select-N does, when its reservations fit and the batch's predicted mean TPOT over its
// life (mean-tpot.ts) at its own iteration times meets the target.
import { meanIterationMs } from '../mean-tpot.ts';
import type { SloTargets } from '../offline-range.ts';
import type { ServingPolicy } from './policies.ts';

/** The policy with SLO-aware admission priced by its own iteration times. */
export function withSloAdmission(policy: ServingPolicy, slo: SloTargets): ServingPolicy {
  return {
    ...policy,
    name: `${policy.name}+slo-admission`,
    description: `${policy.description}; SLO-aware admission (predicted mean TPOT, KV reservations)`,
    sloAwareAdmission: true,
    admits(q) {
      if (q.kvWith > policy.kvCapacityTokens) return false;
      const bw = q.bandwidthBytesPerS;
      const decodeMs = policy.runIteration(q.life.decode, bw, q.kvWith).iterationMs;
      const prefillMs = policy.runIteration(q.life.prefill, bw, q.kvWith).iterationMs;
      return meanIterationMs(decodeMs, prefillMs, q.life.prefillShare) <= slo.tpotMs;
    },
  };
}

/** The policy admitting by free KV blocks alone (vLLM's rule), its iterations unchanged. */
export function withKvAdmission(policy: ServingPolicy): ServingPolicy {
  return {
    ...policy,
    name: `${policy.name}+kv-admission`,
    description: `${policy.description}; admission by free KV blocks only`,
    sloAwareAdmission: false,
    admits: () => true,
  };
}
