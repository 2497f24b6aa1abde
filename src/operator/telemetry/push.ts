// One PUT /v1/selectn/plan to a pod over HTTP, with a deadline and the control token. Never
// throws: applied (with the plan the pod put in force), refused (409 stale generation, 422
// infeasible, 400 invalid: the old plan stays in force), or unreachable (nothing known).
import {
  ControlErrorSchema,
  PlanAckSchema,
  SERVE_PATHS,
  type PlanAck,
  type PlanWire,
} from '../../api/index.ts';

export type PushOutcome =
  | { kind: 'applied'; ack: PlanAck }
  | { kind: 'refused'; status: number; code: string; message: string }
  | { kind: 'unreachable'; message: string };

export async function pushPlan(
  baseUrl: string,
  token: string,
  plan: PlanWire,
  timeoutMs: number,
): Promise<PushOutcome> {
  const url = `${baseUrl}${SERVE_PATHS.plan}`;
  let status: number;
  let text: string;
  try {
    const res = await fetch(url, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(plan),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (error) {
    const cause = error instanceof Error ? (error.cause ?? error) : error;
    return {
      kind: 'unreachable',
      message: `${url}: ${cause instanceof Error ? cause.message : String(cause)}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (status === 200) {
    const ack = PlanAckSchema.safeParse(json);
    if (ack.success) return { kind: 'applied', ack: ack.data };
    return { kind: 'unreachable', message: `${url}: 200 with a reply that is not a PlanAck` };
  }
  const error = ControlErrorSchema.safeParse(json);
  if (error.success && status >= 400 && status < 500 && status !== 401) {
    return {
      kind: 'refused',
      status,
      code: error.data.error.code,
      message: error.data.error.message,
    };
  }
  return { kind: 'unreachable', message: `${url}: HTTP ${status} ${text.slice(0, 200)}` };
}
