// Error catalog of the serving pod: every error a client can see has a stable SN_ERR_* code, an
// HTTP status and an OpenAI error type, and is sent in the OpenAI error shape
// { error: { message, type, param, code } }. 5xx are logged at error, 4xx at info.
import { z } from 'zod';

export const ErrorCodes = {
  SN_ERR_INVALID_JSON: { status: 400, type: 'invalid_request_error' },
  SN_ERR_INVALID_REQUEST: { status: 400, type: 'invalid_request_error' },
  SN_ERR_PROMPT_TOO_LONG: { status: 400, type: 'invalid_request_error' },
  SN_ERR_UNSUPPORTED: { status: 400, type: 'invalid_request_error' },
  SN_ERR_UNAUTHORIZED: { status: 401, type: 'authentication_error' },
  SN_ERR_NOT_FOUND: { status: 404, type: 'invalid_request_error' },
  SN_ERR_MODEL_NOT_FOUND: { status: 404, type: 'invalid_request_error' },
  SN_ERR_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error' },
  SN_ERR_BODY_TOO_LARGE: { status: 413, type: 'invalid_request_error' },
  SN_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'invalid_request_error' },
  SN_ERR_INVALID_PLAN: { status: 400, type: 'invalid_request_error' },
  SN_ERR_STALE_PLAN: { status: 409, type: 'invalid_request_error' },
  SN_ERR_PLAN_INFEASIBLE: { status: 422, type: 'invalid_request_error' },
  SN_ERR_QUEUE_FULL: { status: 429, type: 'rate_limit_error' },
  SN_ERR_INTERNAL: { status: 500, type: 'server_error' },
  SN_ERR_ENGINE: { status: 500, type: 'server_error' },
  SN_ERR_NOT_READY: { status: 503, type: 'server_error' },
  SN_ERR_SHUTTING_DOWN: { status: 503, type: 'server_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** The OpenAI error body. */
export const ErrorBody = z
  .object({
    error: z.object({
      message: z.string().describe('human-readable description'),
      type: z.string().describe('OpenAI error type'),
      param: z.string().nullable().describe('the request field at fault, if any'),
      code: z.string().describe('stable SN_ERR_* code'),
    }),
  })
  .describe('OpenAI-shaped error');
export type ErrorBody = z.infer<typeof ErrorBody>;

export interface ServerErrorOptions {
  param?: string | null;
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  retryAfterS?: number;
  cause?: unknown;
}

export class ServerError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly type: string;
  readonly param: string | null;
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, options: ServerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServerError';
    this.code = code;
    this.statusCode = ErrorCodes[code].status;
    this.type = ErrorCodes[code].type;
    this.param = options.param ?? null;
    this.retryAfterS = options.retryAfterS;
  }

  toBody(): ErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

export function isServerError(error: unknown): error is ServerError {
  return error instanceof ServerError;
}
