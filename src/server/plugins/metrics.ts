// GET /metrics in the Prometheus text format.
import type { FastifyPluginAsync } from 'fastify';
import type { ServerMetrics } from '../metrics.ts';

export const metricsPlugin: FastifyPluginAsync<{ metrics: ServerMetrics }> = (app, { metrics }) => {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
  return Promise.resolve();
};
