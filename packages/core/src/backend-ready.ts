import * as tf from '@tensorflow/tfjs-core';
import { NoBackendError } from './errors.js';

/**
 * Throws NoBackendError naming `what` when TensorFlow.js has no backend at all (neither an active
 * one nor a registered factory), instead of tfjs's bare "No backend found in registry.". Cheap:
 * two property reads.
 */
export function assertBackendReady(what: string): void {
  const engine = tf.engine() as unknown as { backendInstance?: unknown; registryFactory?: Record<string, unknown> };
  if (engine.backendInstance) return;
  if (engine.registryFactory && Object.keys(engine.registryFactory).length > 0) return;
  throw new NoBackendError(what);
}
