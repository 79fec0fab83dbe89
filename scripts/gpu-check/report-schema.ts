/**
 * The shape of the GPU check's OUT_DIR/report.json (schema 'probunet-gpu-check/1'), checked by
 * packages/backends/test/gpu-check.test.ts on the software run and on every recorded GPU run.
 * Returns the problems found (empty: the report conforms). No dependency: a few typed checks.
 */
type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: Json): v is number => typeof v === 'number' && Number.isFinite(v);

export function gpuReportProblems(report: Json): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  if (!isObject(report)) return ['the report is not a JSON object'];
  need(report.schema === 'probunet-gpu-check/1', `schema is ${JSON.stringify(report.schema)}, expected "probunet-gpu-check/1"`);
  need(typeof report.createdAt === 'string' && !Number.isNaN(Date.parse(report.createdAt)), 'createdAt is not a date');
  need(typeof report.ok === 'boolean', 'ok is not a boolean');
  need(isObject(report.machine), 'machine is missing');
  const steps = report.steps;
  need(Array.isArray(steps) && steps.length > 0, 'steps is not a non-empty list');
  if (Array.isArray(steps)) {
    steps.forEach((s, i) => {
      need(isObject(s) && typeof s.name === 'string', `steps[${i}] has no name`);
      need(isObject(s) && ['ok', 'failed', 'skipped', 'running'].includes(s.status as string), `steps[${i}].status is ${isObject(s) ? JSON.stringify(s.status) : '?'}`);
      need(isObject(s) && isNumber(s.seconds), `steps[${i}].seconds is not a number`);
      if (isObject(s) && s.status === 'failed') need(typeof s.reason === 'string' && s.reason.length > 0, `steps[${i}] (${String(s.name)}) failed without a reason`);
    });
  }
  if (report.adapter !== null) {
    const a = report.adapter;
    need(isObject(a), 'adapter is neither null nor an object');
    if (isObject(a)) {
      for (const k of ['vendor', 'architecture', 'device', 'description', 'dawnBackend']) need(typeof a[k] === 'string', `adapter.${k} is not a string`);
      need(typeof a.software === 'boolean', 'adapter.software is not a boolean');
      need(isObject(a.limits), 'adapter.limits is missing');
    }
  }
  const p = report.parity;
  if (p !== null && p !== undefined) {
    need(isObject(p) && typeof p.pass === 'boolean', 'parity.pass is not a boolean');
    if (isObject(p)) {
      for (const k of ['reconstruction', 'kl', 'filterGradientLarge']) need(isObject(p[k]), `parity.${k} is missing`);
      const g = p.gradients;
      need(isObject(g) && isNumber(g.count) && Array.isArray(g.all) && g.all.length === g.count, 'parity.gradients has no full list');
      need(isObject(p.samples) && isNumber((p.samples as Record<string, Json>).agreement), 'parity.samples.agreement is not a number');
    }
  }
  const w = report.webgpu;
  if (w !== null && w !== undefined) {
    need(isObject(w) && typeof w.reduced === 'boolean' && isNumber(w.size), 'webgpu.reduced / webgpu.size missing');
    if (isObject(w)) {
      need(Array.isArray(w.train), 'webgpu.train is not a list');
      if (Array.isArray(w.train)) {
        w.train.forEach((t, i) => need(isObject(t) && isNumber(t.batch) && isNumber(t.msPerImage) && isNumber(t.msPerStep), `webgpu.train[${i}] lacks batch / msPerStep / msPerImage`));
      }
    }
  }
  need(isObject(report.pytorch), 'pytorch is missing');
  need(isObject(report.gpuMemoryPeakMiB), 'gpuMemoryPeakMiB is missing');
  need(Array.isArray(report.ratios), 'ratios is not a list');
  if (Array.isArray(report.ratios)) {
    report.ratios.forEach((r, i) => need(isObject(r) && isNumber(r.ratio) && isNumber(r.webgpu) && isNumber(r.pytorchMs), `ratios[${i}] lacks ratio / webgpu / pytorchMs`));
  }
  return problems;
}
