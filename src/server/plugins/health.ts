// Liveness (/health: the process serves HTTP) from the start; readiness (/ready) only once the
// model is loaded, profiled and planned, and no longer while draining.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Phase, type ServingState } from '../state.ts';

const HealthBody = z.object({
  status: z.string().describe('ok, or the phase when not ready'),
  phase: z.string().describe('life-cycle phase of the server'),
  message: z.string().optional().describe('why the server is not ready'),
});

export const healthPlugin: FastifyPluginAsyncZod<{ state: ServingState }> = (app, { state }) => {
  app.get('/health', { schema: { response: { 200: HealthBody } } }, () => ({
    status: 'ok',
    phase: state.phase,
  }));
  app.get(
    '/ready',
    { schema: { response: { 200: HealthBody, 503: HealthBody } } },
    (_request, reply) => {
      if (state.phase === Phase.READY) return { status: 'ok', phase: state.phase };
      reply.code(503);
      const body = { status: 'not ready', phase: state.phase };
      return state.failure === undefined ? body : { ...body, message: state.failure };
    },
  );
  return Promise.resolve();
};
