import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@probunet/core/node';
import { UsageError } from '../cli-errors.js';
import type { StudyPlan } from './reproduce-plan.js';

/**
 * A study's finished models, kept beside its output folder (`<out>.parts/`, one JSON file per model)
 * while the study runs, so that a stopped study (a closed laptop, a session limit: a full budget
 * takes hours) continues with `--resume` from the first model it had not finished. Each file holds
 * what the report needs of that model — its record, its whole evaluation, its sample-grid rows and
 * its annotation assessment — and the plan it was made under: a part from another plan is refused.
 * The folder is removed once results.md is written.
 */
export interface StudyParts<P> {
  readonly dir: string;
  /** The finished models, in the plan's order (loaded at open). */
  readonly done: ReadonlyMap<string, P>;
  save(type: string, part: P): Promise<void>;
  remove(): Promise<void>;
}

const FORMAT = 'probunet-reproduce-part';

/**
 * Opens `<out>.parts`. Without `resume`, an existing one is an error naming both fixes (unless
 * `force`: then it is discarded); with `resume`, its parts must carry this very plan.
 */
export async function openStudyParts<P>(out: string, plan: StudyPlan, options: { resume: boolean; force: boolean }): Promise<StudyParts<P>> {
  const dir = `${resolve(out)}.parts`;
  const files = await readdir(dir).catch(() => undefined);
  const done = new Map<string, P>();
  if (files && !options.resume) {
    if (!options.force) {
      throw new UsageError(`${dir} holds the finished models of an interrupted study: add --resume to continue it, or --force to start over (it is then deleted)`);
    }
    await rm(dir, { recursive: true, force: true });
  } else if (files) {
    const wanted = JSON.stringify(plan);
    for (const type of plan.models) {
      const name = `${type}.json`;
      if (!files.includes(name)) continue;
      const saved = parseTyped(await readFile(join(dir, name), 'utf8')) as { format?: string; plan?: unknown; part?: P };
      if (saved.format !== FORMAT || saved.part === undefined) throw new UsageError(`${join(dir, name)} is not a reproduce part: delete it, or start over with --force`);
      if (JSON.stringify(saved.plan) !== wanted) {
        throw new UsageError(`${join(dir, name)} was made under another plan (${planDifference(saved.plan as StudyPlan, plan)}): rerun with the options it was started with, or start over with --force`);
      }
      done.set(type, saved.part);
    }
  }
  return {
    dir,
    done,
    async save(type, part) {
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, `${type}.json`), stringifyTyped({ format: FORMAT, version: 1, plan, part }));
    },
    async remove() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The first top-level plan field that differs, for the refusal. */
function planDifference(a: StudyPlan, b: StudyPlan): string {
  for (const key of Object.keys(b) as Array<keyof StudyPlan>) {
    if (JSON.stringify(a?.[key]) !== JSON.stringify(b[key])) return `${key}: ${JSON.stringify(a?.[key])} there, ${JSON.stringify(b[key])} now`;
  }
  return 'a field this version does not know';
}

const TYPED = {
  Uint8Array,
  Int32Array,
  Float32Array,
  Float64Array,
  Uint16Array,
  Int16Array,
  Int8Array,
  Uint32Array,
  Uint8ClampedArray,
} as const;
type TypedName = keyof typeof TYPED;

/**
 * JSON with typed arrays kept (as `{ $typed, base64 }`) and NaN/±Infinity kept (as `{ $number }`):
 * an evaluation holds both, and plain JSON would turn them into objects and nulls.
 */
export function stringifyTyped(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key) {
    const v = this[key];
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = v.constructor.name as TypedName;
      if (!(name in TYPED)) throw new TypeError(`cannot store a ${name}`);
      return { $typed: name, base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
    return v;
  });
}

export function parseTyped(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object' && '$typed' in v && 'base64' in v) {
      const { $typed, base64 } = v as { $typed: TypedName; base64: string };
      const Ctor = TYPED[$typed];
      if (!Ctor) throw new TypeError(`unknown typed array ${String($typed)}`);
      const bytes = Buffer.from(base64, 'base64');
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return new Ctor(copy.buffer);
    }
    if (v && typeof v === 'object' && '$number' in v && Object.keys(v).length === 1) return Number((v as { $number: string }).$number);
    return v;
  });
}
