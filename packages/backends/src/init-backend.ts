import * as tf from '@tensorflow/tfjs-core';
import { activeFloatPrecision, BACKEND_NAMES, PROVIDERS, type BackendName, type ModuleLoaders } from './providers.js';

export type BackendPreference = BackendName | 'auto';

/** Tried in this order by 'auto': tfjs-node GPU and CPU, our native backend, wasm with native kernels, wasm, pure JS. */
export const AUTO_ORDER: readonly BackendName[] = ['node-gpu', 'node', 'native', 'wasm-native', 'wasm', 'cpu'];

export interface CandidateReport {
  name: BackendName;
  packageName: string;
  status: 'selected' | 'failed' | 'not-tried';
  /** Why it failed or was not tried. */
  reason?: string;
}

export interface BackendReport {
  selected: BackendName;
  /** The backend name inside TensorFlow.js. */
  tfBackend: string;
  floatPrecision: 16 | 32;
  threads: number | null;
  notes: string[];
  candidates: CandidateReport[];
}

export class BackendError extends Error {
  readonly candidates: CandidateReport[];
  constructor(message: string, candidates: CandidateReport[]) {
    super(message);
    this.name = 'BackendError';
    this.candidates = candidates;
  }
}

function describe(cands: CandidateReport[]): string {
  return cands.map((c) => `  ${c.name} (${c.packageName}): ${c.status}${c.reason ? ` — ${c.reason}` : ''}`).join('\n');
}

export interface InitBackendOptions {
  /**
   * Loaders for the optional packages a bundled program carries (see `ModuleLoaders`); without
   * them each provider imports its package by name.
   */
  modules?: ModuleLoaders;
  /** Threads for wasm-native's native kernels (default: the CPUs this process may use). */
  threads?: number;
}

/**
 * Loads and activates a TensorFlow.js backend, explicitly: 'auto' tries AUTO_ORDER and keeps the
 * first that initialises; a name loads that one or fails. Returns what runs and why each other
 * candidate did not. Never called implicitly: importing this package changes nothing.
 */
export async function initBackend(preference: BackendPreference = 'auto', options: InitBackendOptions = {}): Promise<BackendReport> {
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new BackendError(`threads must be a whole number ≥ 1, got ${options.threads}`, []);
  }
  if (preference !== 'auto' && !BACKEND_NAMES.includes(preference)) {
    throw new BackendError(
      `unknown backend "${String(preference)}"; choose one of: auto, ${BACKEND_NAMES.join(', ')}`,
      BACKEND_NAMES.map((name) => ({ name, packageName: PROVIDERS[name].packageName, status: 'not-tried' })),
    );
  }
  const order = preference === 'auto' ? AUTO_ORDER : [preference];
  const candidates: CandidateReport[] = BACKEND_NAMES.map((name) => ({
    name,
    packageName: PROVIDERS[name].packageName,
    status: 'not-tried',
    reason: order.includes(name) ? undefined : preference === 'auto' ? 'not part of auto selection; request it by name' : `not requested (asked for ${preference})`,
  })) as CandidateReport[];
  const entry = (name: BackendName) => candidates.find((c) => c.name === name)!;

  await checkSingleNativeBinding(order, entry);
  for (const name of order) {
    const c = entry(name);
    if (c.status === 'failed') continue;
    try {
      const info = await PROVIDERS[name].load({
        ...(options.modules ? { modules: options.modules } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        auto: preference === 'auto',
      });
      const ok = await tf.setBackend(info.tfBackend);
      if (!ok) throw new Error(`tf.setBackend('${info.tfBackend}') returned false: the backend failed to initialise`);
      await tf.ready();
      muteNodeBanner();
      c.status = 'selected';
      delete c.reason;
      for (const later of order.slice(order.indexOf(name) + 1)) entry(later).reason = `${name} was selected first`;
      return {
        selected: name,
        tfBackend: tf.getBackend(),
        floatPrecision: activeFloatPrecision(),
        threads: info.threads,
        notes: info.notes,
        candidates,
      };
    } catch (err) {
      c.status = 'failed';
      c.reason = (err as Error).message;
    }
  }
  throw new BackendError(
    preference === 'auto' ? `no backend could be initialised:\n${describe(candidates)}` : `backend "${preference}" could not be initialised:\n${describe(candidates)}`,
    candidates,
  );
}

/**
 * tfjs-backend-cpu prints a banner recommending tfjs-node on its first tensor in Node; the report
 * says better what runs and why. Marks the active backend's first use as done (the cpu backend's
 * own flag), leaving tfjs's PROD setting and every other warning alone.
 */
function muteNodeBanner(): void {
  const b = tf.backend() as unknown as { firstUse?: boolean };
  if (b.firstUse === true) b.firstUse = false;
}

/** tfjs-node and tfjs-node-gpu both register 'tensorflow': having both installed is ambiguous. */
async function checkSingleNativeBinding(order: readonly BackendName[], entry: (n: BackendName) => CandidateReport): Promise<void> {
  if (!order.includes('node') && !order.includes('node-gpu')) return;
  const resolvable = async (name: string) => {
    try {
      const { createRequire } = await import('node:module');
      createRequire(import.meta.url).resolve(name);
      return true;
    } catch {
      return false;
    }
  };
  if (typeof process === 'undefined' || !process.versions?.node) return;
  const [cpu, gpu] = await Promise.all([resolvable('@tensorflow/tfjs-node'), resolvable('@tensorflow/tfjs-node-gpu')]);
  if (cpu && gpu) {
    const reason = 'both @tensorflow/tfjs-node and @tensorflow/tfjs-node-gpu are installed; they register the same backend: uninstall one';
    entry('node').status = 'failed';
    entry('node').reason = reason;
    entry('node-gpu').status = 'failed';
    entry('node-gpu').reason = reason;
    if (order.length === 1) throw new BackendError(reason, [entry('node'), entry('node-gpu')]);
  }
}

/** A short human-readable form of a report, one line per candidate. */
export function formatBackendReport(r: BackendReport): string {
  const head = `backend: ${r.selected} (tfjs '${r.tfBackend}', float${r.floatPrecision}, threads ${r.threads ?? 'n/a'})`;
  const lines = r.candidates.map((c) => `  ${c.status === 'selected' ? '*' : ' '} ${c.name.padEnd(11)} ${c.status}${c.reason ? `: ${c.reason}` : ''}`);
  return [head, ...lines, ...r.notes.map((n) => `  note: ${n}`)].join('\n');
}
