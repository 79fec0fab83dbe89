import { baselinesPlugin } from '@probunet/baselines';
import { corePlugin, createRegistry, restoreCheckpoint, type CheckpointableModel, type CheckpointHeader } from '@probunet/core';
import { successorsPlugin } from '@probunet/successors';

export type Progress = (stage: string, loaded: number, total: number | null) => void;

/** Reads a response body with progress (bytes so far, and the total when the server says it). */
export async function fetchBytes(url: string, onProgress: Progress): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot download ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || null;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  return readStream(res.body, 'downloading', total, onProgress);
}

/** Reads a user's file with progress. */
export function readFileBytes(file: File, onProgress: Progress): Promise<Uint8Array> {
  return readStream(file.stream(), 'reading', file.size, onProgress);
}

async function readStream(stream: ReadableStream<Uint8Array>, stage: string, total: number | null, onProgress: Progress): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.byteLength;
    onProgress(stage, loaded, total);
  }
  return concat(parts, loaded);
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

export interface LoadedModel {
  model: CheckpointableModel;
  header: CheckpointHeader;
  /** Kept to rebuild the model on another backend. */
  bytes: Uint8Array;
  name: string;
}

const registry = createRegistry([corePlugin, baselinesPlugin, successorsPlugin]);

/**
 * Checks and restores a checkpoint (format, version, CRCs, model type), dropping any training state.
 * `accept` says whether the slot takes the model (by its capabilities); a refusal is an error that
 * says what the file holds.
 */
export function restoreModel(bytes: Uint8Array, name: string, accept: (model: CheckpointableModel) => string | null, onProgress: Progress): LoadedModel {
  onProgress('checking', bytes.byteLength, bytes.byteLength);
  const restored = restoreCheckpoint(bytes, { source: name, registry });
  const refusal = accept(restored.model);
  if (refusal) {
    restored.model.dispose();
    throw new Error(refusal);
  }
  onProgress('ready', bytes.byteLength, bytes.byteLength);
  return { model: restored.model, header: restored.header, bytes, name };
}
