// One read of a pod's GET /v1/selectn/telemetry over HTTP, with a deadline and the control token,
// checked against the shared schema. Never throws: the outcome is data the loop acts on.
import { SERVE_PATHS, TelemetrySnapshotSchema, type TelemetrySnapshot } from '../../api/index.ts';

export type TelemetryOutcome =
  | { kind: 'ok'; snapshot: TelemetrySnapshot }
  /** No answer in time, refused, reset, or a status other than 200 and 401. */
  | { kind: 'unreachable'; message: string }
  /** 401: the token is wrong (e.g. the Secret was recreated); read it again. */
  | { kind: 'unauthorized'; message: string }
  /** An answer that fails the schema: ignored, reported once. */
  | { kind: 'invalid'; message: string };

/** Bodies larger than this are refused (a snapshot is a few KiB). */
export const MAX_TELEMETRY_BYTES = 1 << 20;

export async function fetchTelemetry(
  baseUrl: string,
  token: string,
  timeoutMs: number,
): Promise<TelemetryOutcome> {
  const url = `${baseUrl}${SERVE_PATHS.telemetry}`;
  let text: string;
  let status: number;
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    const length = Number(res.headers.get('content-length') ?? '0');
    if (length > MAX_TELEMETRY_BYTES) {
      await res.body?.cancel();
      return { kind: 'invalid', message: `${url}: body of ${length} bytes is too large` };
    }
    text = await res.text();
  } catch (error) {
    const cause = error instanceof Error ? (error.cause ?? error) : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    return { kind: 'unreachable', message: `${url}: ${message}` };
  }
  if (status === 401) return { kind: 'unauthorized', message: `${url}: 401` };
  if (status !== 200)
    return { kind: 'unreachable', message: `${url}: HTTP ${status} ${text.slice(0, 200)}` };
  if (text.length > MAX_TELEMETRY_BYTES)
    return { kind: 'invalid', message: `${url}: body of ${text.length} bytes is too large` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', message: `${url}: body is not JSON` };
  }
  const parsed = TelemetrySnapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.map(String).join('.') ?? '';
    return {
      kind: 'invalid',
      message: `${url}: ${where === '' ? '(root)' : where}: ${issue?.message ?? 'invalid'}`,
    };
  }
  return { kind: 'ok', snapshot: parsed.data };
}
