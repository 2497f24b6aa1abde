// Control plane for the operator under /v1/selectn/: GET telemetry and PUT plan (wire formats in
// src/api/wire.ts). Every request needs `Authorization: Bearer <token>`, the token being the
// contents of the control token file, compared in constant time. The file is re-read when it
// changes (a rotated Secret).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  PlanAckSchema,
  PlanWireSchema,
  SERVE_PATHS,
  TelemetrySnapshotSchema,
} from '../../api/index.ts';
import type { ServeConfig } from '../config.ts';
import type { HardwareInfo } from '../engine-port.ts';
import { ErrorBody, ServerError } from '../errors.ts';
import type { ServingState } from '../state.ts';
import { telemetrySnapshot } from '../telemetry.ts';

/** The bearer token, from a file, re-read when the file's mtime or size changes. */
export class TokenFile {
  private readonly path: string | undefined;
  private cached: { digest: Buffer; mtimeMs: number; size: number } | undefined;

  constructor(path: string | undefined) {
    this.path = path;
    if (path !== undefined) this.load();
  }

  /** SHA-256 of the expected token, or undefined when no token is configured. */
  private load(): Buffer | undefined {
    if (this.path === undefined) return undefined;
    const st = statSync(this.path);
    if (this.cached?.mtimeMs === st.mtimeMs && this.cached.size === st.size) {
      return this.cached.digest;
    }
    const token = readFileSync(this.path, 'utf8').trim();
    if (token.length === 0) throw new Error(`control token file ${this.path} is empty`);
    const digest = createHash('sha256').update(token).digest();
    this.cached = { digest, mtimeMs: st.mtimeMs, size: st.size };
    return digest;
  }

  /** Constant-time check of an Authorization header value. */
  verify(header: string | undefined): boolean {
    let expected: Buffer | undefined;
    try {
      expected = this.load();
    } catch {
      expected = this.cached?.digest;
    }
    if (expected === undefined) return false;
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
    const presented = createHash('sha256')
      .update(match?.[1]?.trim() ?? '')
      .digest();
    // Hashing first gives equal lengths, so the comparison time does not depend on the token.
    return timingSafeEqual(presented, expected) && match !== null;
  }
}

export interface ControlPluginOptions {
  state: ServingState;
  config: ServeConfig;
  token: TokenFile;
  hardware: () => HardwareInfo | undefined;
}

export const controlPlugin: FastifyPluginAsyncZod<ControlPluginOptions> = (app, options) => {
  const { state, config, token } = options;

  const authorize = (request: FastifyRequest): void => {
    if (!token.verify(request.headers.authorization)) {
      throw new ServerError(
        'SN_ERR_UNAUTHORIZED',
        'missing or wrong bearer token for the control endpoints',
      );
    }
  };

  const serving = () => {
    const s = state.serving;
    const hardware = options.hardware();
    if (s === undefined || hardware === undefined) {
      throw new ServerError('SN_ERR_NOT_READY', `the model is not ready yet (${state.phase})`);
    }
    return { s, hardware };
  };

  app.get(
    SERVE_PATHS.telemetry,
    {
      onRequest: (request) => {
        authorize(request);
        return Promise.resolve();
      },
      schema: { response: { 200: TelemetrySnapshotSchema, 401: ErrorBody, 503: ErrorBody } },
    },
    () => {
      const { s, hardware } = serving();
      return telemetrySnapshot(config, state, s, hardware);
    },
  );

  app.put(
    SERVE_PATHS.plan,
    {
      onRequest: (request) => {
        authorize(request);
        return Promise.resolve();
      },
      schema: {
        body: PlanWireSchema,
        response: {
          200: PlanAckSchema,
          400: ErrorBody,
          401: ErrorBody,
          409: ErrorBody,
          422: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request) => {
      const { s } = serving();
      request.log.info({ plan: request.body }, 'plan received');
      const ack = await s.plan.apply(request.body);
      request.log.info({ plan: ack.plan, note: ack.note }, 'plan in force');
      return ack;
    },
  );
  return Promise.resolve();
};
