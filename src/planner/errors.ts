// Typed planner errors: a stable reason code for machines and a sentence for people.

/** Why a plan, a description or a profile was refused. */
export const PlannerErrorCode = {
  /** A model, hardware or profile description failed validation. */
  InvalidDescription: 'invalid-description',
  /** A workload, SLO or option value is out of range. */
  InvalidInput: 'invalid-input',
  /** Not even every layer offloaded leaves room for the weights that must stay and one sequence of KV cache. */
  ModelDoesNotFit: 'model-does-not-fit',
  /** The SLO is missed even with no offloading (or the least offloading that fits) at the lightest load. */
  SloUnmeetable: 'slo-unmeetable',
  /** A measured profile does not belong to this model or cannot be fitted. */
  ProfileMismatch: 'profile-mismatch',
  /** A built-in name is not in the catalog. */
  UnknownName: 'unknown-name',
} as const;
export type PlannerErrorCode = (typeof PlannerErrorCode)[keyof typeof PlannerErrorCode];

export class PlannerError extends Error {
  readonly code: PlannerErrorCode;
  /** Dotted path of the offending field, when there is one (for "--flag: message" in the CLI). */
  readonly field: string | undefined;
  constructor(code: PlannerErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'PlannerError';
    this.code = code;
    this.field = field;
  }
}
