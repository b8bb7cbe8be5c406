/**
 * The gate every OTLP/gRPC call passes before its message is read (SPEC §7): a collector
 * shutting down answers UNAVAILABLE, a missing or unknown API key UNAUTHENTICATED, a key without
 * the service's scope PERMISSION_DENIED, and the service's own admit() may refuse (storage down,
 * queue full). Refusing at the metadata stage means grpc-js never starts reading the message, as
 * the HTTP route refuses before reading the body. The gate also counts every call by its status.
 */
import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import { authorize, presentedKey, type ApiKey } from '../../src/auth.ts';
import { ForbiddenError, SessiongraphError, UnauthorizedError, UnavailableError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import type { ExportService } from './export-service.ts';
import { grpcStatusOf, statusName } from './status.ts';

/** What the gate needs to know. */
export interface GateOptions {
  apiKeys: readonly ApiKey[];
  /** True once the collector is shutting down. */
  isClosing: () => boolean;
  logger: Logger;
}

/** An interceptor gating and counting the calls of `services` (keyed by their Export path). */
export function gateCalls(services: ReadonlyMap<string, ExportService>, options: GateOptions): ServerInterceptor {
  return (method, call) => {
    const service = services.get(method.path);
    if (!service) return new ServerInterceptingCall(call);
    // Counted once per call: by the status we send, or as CANCELLED when the call ends without
    // one (the client left, or grpc-js ended it itself: message over the size limit, bad gzip).
    let counted = false;
    const count = (code: status): void => {
      if (counted) return;
      counted = true;
      const name = statusName(code);
      service.requests[name] = (service.requests[name] ?? 0) + 1;
    };
    const gated: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const refusal = refusalOf(service, metadata, options);
            // Not passing the metadata on keeps the handler from asking for the message.
            if (refusal) gated.sendStatus(grpcStatusOf(refusal));
            else nextMetadata(metadata);
          },
          onCancel: () => count(status.CANCELLED),
        });
      },
      sendStatus(statusObject, next) {
        count(statusObject.code);
        next(statusObject);
      },
    });
    return gated;
  };
}

/** Why a call must be refused before its message is read, or undefined to let it through. */
function refusalOf(service: ExportService, metadata: Metadata, options: GateOptions): Error | undefined {
  if (options.isClosing()) return new UnavailableError('the collector is shutting down; retry', 5);
  if (options.apiKeys.length > 0) {
    const key = presentedKey(firstText(metadata, 'authorization'), firstText(metadata, 'x-api-key'));
    const result = authorize(options.apiKeys, key, service.scope);
    if (result === 'missing')
      return new UnauthorizedError(
        'an API key is required: send authorization: Bearer <key> (or x-api-key: <key>) metadata',
      );
    if (result === 'invalid') return new UnauthorizedError('the API key is not valid');
    if (result === 'forbidden')
      return new ForbiddenError(`the API key does not have the "${service.scope}" scope this service needs`);
  }
  try {
    service.admit?.();
  } catch (err) {
    if (err instanceof SessiongraphError) return err;
    // A bug of ours: answered INTERNAL (final, so it cannot loop) and logged, never thrown into grpc-js.
    options.logger.error('unexpected gRPC admission error', { service: service.name, error: String(err) });
    return err instanceof Error ? err : new Error(String(err));
  }
  return undefined;
}

/** A metadata entry's first value as text (gRPC metadata may repeat a key; binary values are not keys). */
export function firstText(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}
