// The serving pod's HTTP app, built in a function and listened on elsewhere (src/cli/serve.ts),
// so tests can run it on a random port. Features are encapsulated plugins: health, metrics,
// openai, control. Every error leaves in the OpenAI error shape with a stable SN_ERR_* code.
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type RawServerDefault } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { SERVE_PATHS } from '../api/index.ts';
import type { Logger } from '../log/logger.ts';
import type { ServeConfig } from './config.ts';
import type { HardwareInfo } from './engine-port.ts';
import { ServerError, isServerError } from './errors.ts';
import type { ServerMetrics } from './metrics.ts';
import { controlPlugin, TokenFile } from './plugins/control.ts';
import { healthPlugin } from './plugins/health.ts';
import { metricsPlugin } from './plugins/metrics.ts';
import { openAiPlugin } from './plugins/openai.ts';
import type { ServingState } from './state.ts';

export interface ServerDeps {
  config: ServeConfig;
  logger: Logger;
  state: ServingState;
  metrics: ServerMetrics;
  /** Milliseconds on the engine's clock (arrival times of requests). */
  clockNow: () => number;
  /** Known once the runtime is up. */
  hardware: () => HardwareInfo | undefined;
}

export type SelectnApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  Logger,
  ZodTypeProvider
>;

let nextRequestId = 0;

export async function buildServer(deps: ServerDeps): Promise<SelectnApp> {
  const { config, metrics } = deps;
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => `req-${(nextRequestId++).toString(36)}`,
    return503OnClosing: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const err = toServerError(error, request.url);
    if (err.statusCode >= 500) request.log.error({ err: error, code: err.code }, err.message);
    else request.log.info({ code: err.code, param: err.param }, err.message);
    if (err.retryAfterS !== undefined) void reply.header('retry-after', String(err.retryAfterS));
    return reply.code(err.statusCode).send(err.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new ServerError('SN_ERR_NOT_FOUND', `no route ${request.method} ${request.url}`);
    return reply.code(404).send(err.toBody());
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequests.inc({
      route: request.routeOptions.url ?? 'unknown',
      status: String(reply.statusCode),
    });
    done();
  });

  await app.register(healthPlugin, { state: deps.state });
  await app.register(metricsPlugin, { metrics });
  await app.register(openAiPlugin, {
    state: deps.state,
    metrics,
    maxQueue: config.maxQueue,
    clockNow: deps.clockNow,
  });
  await app.register(controlPlugin, {
    state: deps.state,
    config,
    token: new TokenFile(config.controlTokenFile),
    hardware: deps.hardware,
  });
  return app;
}

/** Maps anything thrown in a route to the catalog. */
export function toServerError(error: FastifyError, url: string): ServerError {
  if (isServerError(error)) return error;
  const isPlan = url.startsWith(SERVE_PATHS.plan);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const first = error.validation[0];
    const param = (first?.instancePath ?? '').split('/').filter(Boolean).join('.');
    const where = param === '' ? 'body' : param;
    return new ServerError(
      isPlan ? 'SN_ERR_INVALID_PLAN' : 'SN_ERR_INVALID_REQUEST',
      `${where}: ${first?.message ?? 'invalid'}`,
      { param: param === '' ? null : param },
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ServerError(
        isPlan ? 'SN_ERR_INVALID_PLAN' : 'SN_ERR_INVALID_JSON',
        `the request body is not valid JSON: ${error.message}`,
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ServerError('SN_ERR_BODY_TOO_LARGE', 'the request body is larger than the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ServerError(
        'SN_ERR_UNSUPPORTED_MEDIA_TYPE',
        `unsupported content type; send application/json`,
      );
    default:
      break;
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new ServerError(
      'SN_ERR_INVALID_JSON',
      `the request body is not valid JSON: ${error.message}`,
    );
  }
  return new ServerError('SN_ERR_INTERNAL', 'internal server error', { cause: error });
}
