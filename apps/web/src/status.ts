import * as tf from '@tensorflow/tfjs-core';
import { $ } from './dom.js';
import { state } from './state.js';

// Errors and status: every failure a user can cause lands in #error, never only in the console.

export function showError(err: unknown): void {
  const box = $('error');
  box.textContent = err instanceof Error ? err.message : String(err);
  box.hidden = false;
  console.error(err);
}

export function clearError(): void {
  const box = $('error');
  box.textContent = '';
  box.hidden = true;
}

export function status(text: string): void {
  $('status').textContent = text;
  showMemory();
}

/** The tensors TensorFlow.js holds: constant across repeated actions (nothing leaks). */
export function showMemory(): void {
  if (!state.backend) return; // tf.memory() needs a running backend
  const m = tf.memory();
  const el = $('memory');
  el.dataset.tensors = String(m.numTensors);
  el.textContent = `TensorFlow.js holds ${m.numTensors} tensors (${(m.numBytes / 2 ** 20).toFixed(1)} MiB)`;
}

/** Whether a user action is running: a second one is ignored until it ends. */
let busy = false;

/** Runs a user action; its error goes to the page. Controls are disabled while it runs. */
export async function act(what: string, fn: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  document.body.dataset.busy = 'true';
  clearError();
  status(`${what}…`);
  try {
    await fn();
    status(`${what}: done`);
  } catch (err) {
    status(`${what}: failed`);
    showError(err);
  } finally {
    busy = false;
    document.body.dataset.busy = 'false';
  }
}
