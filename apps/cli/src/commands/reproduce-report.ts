import type { AnnotationAssessment, Evaluation, ProtocolCard, SampleCountSummary, Summary } from '@probunet/evaluation';
import type { ImplausibleKind, IndexedDataset } from '@probunet/datasets';
import type { StudyPlan } from './reproduce-plan.js';

/** One model's part of results.json. */
export interface ModelResult {
  type: string;
  config: Record<string, unknown>;
  training: { steps: number; weightDecay: number; seconds: number; msPerStep: number; finalLoss: number; stoppedEarly: string | null };
  evaluation: { card: ProtocolCard; bySampleCount: SampleCountSummary[]; modeShares: Evaluation['modeShares']; flipCalibration: Evaluation['flipCalibration']; seconds: number };
}

/** How often the Prob. U-Net scores the planted implausible annotation as the image's least plausible. */
export interface AssessmentResult {
  kind: ImplausibleKind;
  images: number;
  graders: number;
  /** 1 / graders: a random ranking's rate. */
  chance: number;
  /** Images whose lowest log p(y|x) is the implausible grader's. */
  hitsLogLikelihood: number;
  rateLogLikelihood: number;
  /** The same by the lowest ELBO. */
  hitsElbo: number;
  rateElbo: number;
  /** Mean log-likelihood (nats per image) of the implausible and the plausible annotations. */
  meanLogLikelihood: { implausible: number; plausible: number };
  /** Time the scoring took. */
  seconds: number;
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

/** Counts, per image, whether the lowest score belongs to the grader the data marked implausible. */
export async function scoreAssessment(kind: ImplausibleKind, assessment: AnnotationAssessment, data: IndexedDataset, seconds: number): Promise<AssessmentResult> {
  const byImage = new Map<number, AnnotationAssessment['annotations']>();
  for (const a of assessment.annotations) byImage.set(a.index, [...(byImage.get(a.index) ?? []), a]);
  let hitsLogLikelihood = 0;
  let hitsElbo = 0;
  const ll = { implausible: 0, plausible: 0, nImplausible: 0, nPlausible: 0 };
  let graders = 0;
  for (const [index, records] of byImage) {
    const marked = (await data.get(index)).meta.implausibleGrader;
    if (typeof marked !== 'number') throw new Error(`image ${index} of ${data.name} has no meta.implausibleGrader: open it with implausibleGrader set`);
    graders = Math.max(graders, records.length);
    const lowest = (key: 'logLikelihood' | 'elbo') => records.reduce((w, r) => (r[key] < w[key] ? r : w)).grader;
    if (lowest('logLikelihood') === marked) hitsLogLikelihood++;
    if (lowest('elbo') === marked) hitsElbo++;
    for (const r of records) {
      if (r.grader === marked) {
        ll.implausible += r.logLikelihood;
        ll.nImplausible++;
      } else {
        ll.plausible += r.logLikelihood;
        ll.nPlausible++;
      }
    }
  }
  const images = byImage.size;
  return {
    kind,
    images,
    graders,
    chance: 1 / graders,
    hitsLogLikelihood,
    rateLogLikelihood: hitsLogLikelihood / images,
    hitsElbo,
    rateElbo: hitsElbo / images,
    meanLogLikelihood: { implausible: ll.implausible / ll.nImplausible, plausible: ll.plausible / ll.nPlausible },
    seconds,
  };
}

const at = (m: ModelResult, samples: number) => m.evaluation.bySampleCount.find((s) => s.samples === samples)?.metrics;

/**
 * The checks the exit code follows (both budgets): the Prob. U-Net's GED against the exact
 * distribution below the deterministic U-Net's, and the oracle floor below every model, at the
 * largest sample count.
 */
export function orderingChecks(models: ModelResult[], plan: StudyPlan): Check[] {
  const n = plan.evaluation.sampleCounts.at(-1)!;
  const ged = (type: string) => at(models.find((m) => m.type === type)!, n)?.gedDistribution?.mean ?? NaN;
  const prob = ged('prob-unet');
  const det = ged('deterministic-unet');
  const oracle = at(models[0]!, n)?.oracleGedDistribution?.mean ?? NaN;
  const above = models.filter((m) => !(oracle < ged(m.type)));
  return [
    {
      name: `Prob. U-Net's GED (vs the exact distribution, ${n} samples) below the deterministic U-Net's`,
      pass: prob < det,
      detail: `${f3(prob)} vs ${f3(det)}`,
    },
    {
      name: `oracle floor (GED of ${n} true samples) below every model's GED`,
      pass: above.length === 0,
      detail: above.length === 0 ? `${f3(oracle)} < ${f3(Math.min(...models.map((m) => ged(m.type))))} (the lowest model)` : `not below ${above.map((m) => `${m.type} (${f3(ged(m.type))})`).join(', ')}; floor ${f3(oracle)}`,
    },
  ];
}

/** The issue's targets, reported (met or not) but not part of the exit code. */
export function targets(models: ModelResult[], plan: StudyPlan): Check[] {
  const n = plan.evaluation.sampleCounts.at(-1)!;
  const prob = models.find((m) => m.type === 'prob-unet')!;
  const ged = (m: ModelResult) => at(m, n)?.gedDistribution?.mean ?? NaN;
  const oracle = at(prob, n)?.oracleGedDistribution?.mean ?? NaN;
  if (plan.task === 'lidc-like') {
    const beaten = models.filter((m) => m !== prob && !(ged(prob) < ged(m)));
    const diversity = at(prob, n)?.sampleDiversity?.mean ?? NaN;
    const trueDiversity = at(prob, n)?.trueDiversity?.mean ?? NaN;
    const shares = prob.evaluation.modeShares ?? [];
    const worstShare = shares.reduce((w, s) => Math.max(w, Math.abs(s.sampleShare - s.trueProbability)), 0);
    return [
      {
        name: `Prob. U-Net within ${GED_FLOOR_TARGET} GED of the oracle floor at ${n} samples`,
        pass: ged(prob) - oracle <= GED_FLOOR_TARGET,
        detail: `${f3(ged(prob))} − ${f3(oracle)} = ${f3(ged(prob) - oracle)}`,
      },
      {
        name: `Prob. U-Net: each mode's share of the samples within ${MODE_SHARE_TARGET} of its true probability (${n} samples per image, each sample counted for its nearest mode)`,
        pass: shares.length > 0 && worstShare <= MODE_SHARE_TARGET,
        detail: shares.length > 0 ? `${shares.map((s) => `${s.mode} ${f3(s.sampleShare)}/${f3(s.trueProbability)}`).join(', ')} (worst miss ${f3(worstShare)})` : 'no mode shares',
      },
      { name: 'Prob. U-Net below every baseline', pass: beaten.length === 0, detail: beaten.length === 0 ? 'yes' : `not below ${beaten.map((m) => `${m.type} (${f3(ged(m))})`).join(', ')}` },
      {
        name: `Prob. U-Net's sample diversity within 0.05 of the true diversity (${n} samples; d = 1 − IoU, the GED target's units)`,
        pass: Math.abs(diversity - trueDiversity) <= 0.05,
        detail: `${f3(diversity)} vs ${f3(trueDiversity)} (${diversity < trueDiversity ? 'less' : 'more'} diverse by ${f3(Math.abs(diversity - trueDiversity))})`,
      },
    ];
  }
  const cal = prob.evaluation.flipCalibration;
  const flips = cal?.flips ?? [];
  const worst = flips.reduce((w, fl) => Math.max(w, Math.abs(fl.fraction - fl.trueProbability)), 0);
  const table = cal?.fullModes;
  const modes = table ? `${table.modes.length} modes, ${table.images} test images with all ${flips.length} classes` : 'no flip calibration';
  return [
    {
      name: `Prob. U-Net: sampled flip fraction within ${FLIP_FRACTION_TARGET} of the true probability for every class (pixels of the images that contain the class)`,
      pass: flips.length > 0 && flips.every((fl) => Math.abs(fl.fraction - fl.trueProbability) <= FLIP_FRACTION_TARGET),
      detail: flips.map((fl) => `${fl.name ?? `${fl.from}→${fl.to}`} ${f3(fl.fraction)}/${f3(fl.trueProbability)}`).join(', ') + ` (worst miss ${f3(worst)})`,
    },
    {
      name: `Prob. U-Net: mean sampled frequency of each flip combination against its true probability, Pearson r ≥ ${MODE_CORRELATION_TARGET} (images with every flippable class)`,
      pass: table !== undefined && table.pearsonR >= MODE_CORRELATION_TARGET,
      detail: `r = ${f3(table?.pearsonR ?? NaN)}${table && Number.isNaN(table.pearsonR) ? ' (undefined: no such image, or constant frequencies)' : ''}; ${modes}`,
    },
    {
      name: `Prob. U-Net: total-variation distance of that ${2 ** flips.length}-mode table to the truth ≤ ${MODE_TV_TARGET}`,
      pass: table !== undefined && table.totalVariation <= MODE_TV_TARGET,
      detail: table
        ? `TV = ${f3(table.totalVariation)} (a perfect sampler: ≈ ${f3(table.totalVariationFloor)}); per image, over the classes present: mean TV ${f3(cal!.totalVariation.mean)} against a perfect sampler's ${f3(cal!.totalVariation.floor)} at ${n} samples (${cal!.totalVariation.images} images)`
        : 'no flip calibration',
    },
  ];
}

/** The lidc-like targets (issue 27): GED within this of the oracle floor; each mode's sample share within this of its probability. */
export const GED_FLOOR_TARGET = 0.03;
export const MODE_SHARE_TARGET = 0.05;
/** The issue's calibration targets (issue 27): per-class flip fractions, and the 2^F-mode table's r and total variation. */
export const FLIP_FRACTION_TARGET = 0.05;
export const MODE_CORRELATION_TARGET = 0.9;
export const MODE_TV_TARGET = 0.15;

export const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–');
const pm = (s: Summary | undefined) => (!s || !Number.isFinite(s.mean) ? '–' : Number.isFinite(s.standardError) ? `${s.mean.toFixed(3)} ± ${s.standardError.toFixed(3)}` : s.mean.toFixed(3));

export interface ReportHeader {
  command: string;
  task: string;
  budget: string;
  seed: number;
  backend: string;
  machine: { cores: number; cpu: string; memoryGiB: number; platform: string; node: string };
  started: string;
  /** Wall time of the whole study: this run plus, when resumed, the runs that finished its earlier models. */
  seconds: number;
  /** Models finished by an earlier, stopped run of the same plan (`--resume`), with when that run started. */
  resumed?: { models: string[]; started: string };
}

/** results.md: header, the metric table per model and sample count, assessment, checks, targets, files. */
export function renderMarkdown(h: ReportHeader, plan: StudyPlan, models: ModelResult[], assessment: AssessmentResult[], checks: Check[], goals: Check[], figures: string[]): string {
  const d = plan.data;
  const lines = [
    `# probunet reproduce — ${h.task} (${h.budget} budget)`,
    '',
    '| | |',
    '|---|---|',
    `| command | \`${h.command}\` |`,
    `| seed | ${h.seed} |`,
    `| backend | ${h.backend} |`,
    `| machine | ${h.machine.cores} cores, ${h.machine.cpu}, ${h.machine.memoryGiB} GiB, ${h.machine.platform}, Node ${h.machine.node} |`,
    `| date | ${h.started} |`,
    `| time taken | ${formatDuration(h.seconds)}${h.resumed ? ` (resumed: ${h.resumed.models.join(', ')} finished by a run started ${h.resumed.started})` : ''} |`,
    `| data | ${d.source} ${d.height}×${d.width}, ${d.graders} graders per image, ${d.trainImages} train / ${d.testImages} test images (seeds ${d.trainSeed} / ${d.testSeed})${d.personScale !== undefined ? `, persons ×${d.personScale}` : ''} |`,
    `| every model | U-Net channels [${plan.backbone.channels.join(', ')}], ${plan.backbone.convsPerBlock} convs per block; ${plan.training.steps} steps of batch ${plan.training.batch}, Adam ${plan.training.learningRate.values.join(' → ')} at step ${plan.training.learningRate.boundaries.join(', ')}, weight decay ${models[0]?.training.weightDecay ?? plan.training.weightDecay} |`,
    '',
    `## Checks (${checks.every((c) => c.pass) ? 'all pass' : 'FAILED'})`,
    '',
    '| check | result | values |',
    '|---|---|---|',
    ...checks.map((c) => `| ${c.name} | ${c.pass ? 'pass' : '**FAIL**'} | ${c.detail} |`),
    '',
    "## Targets of issues 15 and 27 (reported, not checked)",
    '',
    '| target | met | values |',
    '|---|---|---|',
    ...goals.map((c) => `| ${c.name} | ${c.pass ? 'yes' : 'no'} | ${c.detail} |`),
    '',
    '## Results (test split; mean ± standard error over images)',
    '',
    'GED: generalized energy distance, d = 1 − IoU; "graders": against the test images\' 4 annotations; "truth": against the exact distribution (modes weighted by probability). Diversity: mean d between a model\'s samples. IoU: Hungarian-matched IoU against the graders. NCC: S_NCC of the samples\' and graders\' cross-entropy maps. ECE: expected calibration error of class ' +
      `${models[0]?.evaluation.card.protocol.conventions.ece.classId ?? 1}.`,
    '',
    '| model | samples | GED graders | GED truth | diversity | matched IoU | NCC | ECE |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const m of models) {
    for (const s of m.evaluation.bySampleCount) {
      const x = s.metrics;
      lines.push(`| ${m.type} | ${s.samples} | ${pm(x.gedGraders)} | ${pm(x.gedDistribution)} | ${pm(x.sampleDiversity)} | ${pm(x.matchedIoUGraders)} | ${pm(x.ncc)} | ${pm(x.ece)} |`);
    }
  }
  const oracle = models[0]?.evaluation.bySampleCount ?? [];
  lines.push(...oracle.map((s) => `| oracle floor (true samples) | ${s.samples} | | ${pm(s.metrics.oracleGedDistribution)} | | | | |`));
  lines.push(...calibrationSection(plan, models));
  lines.push('', '## Training', '', '| model | steps | time | ms / step | final loss | note |', '|---|---|---|---|---|---|');
  for (const m of models) lines.push(`| ${m.type} | ${m.training.steps} | ${formatDuration(m.training.seconds)} | ${m.training.msPerStep.toFixed(0)} | ${f3(m.training.finalLoss)} | ${m.training.stoppedEarly ?? ''} |`);
  lines.push(
    '',
    '## Annotation assessment (Prob. U-Net)',
    '',
    `One grader per test image replaced by an implausible annotation (the synthetic source's \`implausibleGrader\` option); each annotation scored by \`assessAnnotations\` (${plan.evaluation.assessmentSamples} posterior draws). A hit: the implausible annotation has the image's lowest score.`,
    '',
    '| implausible kind | images | hit rate, log p(y∣x) | hit rate, ELBO | chance | mean log p(y∣x): implausible / plausible (nats) |',
    '|---|---|---|---|---|---|',
    ...assessment.map((a) => `| ${a.kind} | ${a.images} | ${f3(a.rateLogLikelihood)} (${a.hitsLogLikelihood}) | ${f3(a.rateElbo)} (${a.hitsElbo}) | ${f3(a.chance)} | ${a.meanLogLikelihood.implausible.toFixed(1)} / ${a.meanLogLikelihood.plausible.toFixed(1)} |`),
    '',
    '## Files',
    '',
    '- `results.json`: everything above, with each model\'s config, training record and protocol card',
    ...figures.map((name) => `- \`${name}\``),
    '',
  );
  return lines.join('\n');
}

/**
 * Every model's calibration with the Prob. U-Net's measures (issues 27 and 31): lidc-like, each
 * lesion extent's share of the samples (nearest mode) against its probability; cityscapes-like,
 * each class's flip fraction, the 2^F-mode table's r and TV, and the per-image TV with its floor.
 */
export function calibrationSection(plan: StudyPlan, models: ModelResult[]): string[] {
  const n = plan.evaluation.sampleCounts.at(-1)!;
  const miss = (pairs: Array<[number, number]>) => pairs.reduce((w, [a, b]) => Math.max(w, Math.abs(a - b)), 0);
  if (plan.task === 'lidc-like') {
    const names = models.find((m) => m.evaluation.modeShares?.length)?.evaluation.modeShares?.map((s) => s.mode) ?? [];
    if (names.length === 0) return [];
    const truth = models.find((m) => m.evaluation.modeShares?.length)!.evaluation.modeShares!;
    const lines = [
      '',
      `## Calibration per model (${n} samples per test image)`,
      '',
      "Each lesion extent's share of all test samples (each sample counted for its nearest mode: 1 − IoU, empty pair one) against its probability; worst miss: the largest |share − probability|.",
      '',
      `| model | ${names.join(' | ')} | worst miss |`,
      `|---|${names.map(() => '---|').join('')}---|`,
      `| truth | ${truth.map((s) => f3(s.trueProbability)).join(' | ')} | |`,
    ];
    for (const m of models) {
      const shares = m.evaluation.modeShares ?? [];
      const by = new Map(shares.map((s) => [s.mode, s]));
      lines.push(`| ${m.type} | ${names.map((k) => f3(by.get(k)?.sampleShare ?? NaN)).join(' | ')} | ${shares.length ? f3(miss(shares.map((s) => [s.sampleShare, s.trueProbability]))) : '–'} |`);
    }
    return lines;
  }
  const first = models.find((m) => m.evaluation.flipCalibration)?.evaluation.flipCalibration;
  if (!first) return [];
  const names = first.flips.map((fl) => fl.name ?? `${fl.from}→${fl.to}`);
  const lines = [
    '',
    `## Calibration per model (${n} samples per test image)`,
    '',
    `Flip fraction: the share of the class's pixels sampled as its flip, over the test images that contain the class; worst miss: the largest |fraction − probability|. r and TV: the ${2 ** names.length}-mode table (mean sampled frequency of each flip combination against its probability, over the ${first.fullModes.images} test images that contain every flippable class; a perfect sampler's TV ≈ ${f3(first.fullModes.totalVariationFloor)}). Per-image TV: each image's samples against its exact distribution over the combinations of the classes it contains, averaged (a perfect sampler's: ${f3(first.totalVariation.floor)}).`,
    '',
    `| model | ${names.join(' | ')} | worst miss | r | table TV | per-image TV |`,
    `|---|${names.map(() => '---|').join('')}---|---|---|---|`,
    `| truth | ${first.flips.map((fl) => f3(fl.trueProbability)).join(' | ')} | | | | |`,
  ];
  for (const m of models) {
    const cal = m.evaluation.flipCalibration;
    if (!cal) {
      lines.push(`| ${m.type} | ${names.map(() => '–').join(' | ')} | – | – | – | – |`);
      continue;
    }
    lines.push(`| ${m.type} | ${cal.flips.map((fl) => f3(fl.fraction)).join(' | ')} | ${f3(miss(cal.flips.map((fl) => [fl.fraction, fl.trueProbability])))} | ${f3(cal.fullModes.pearsonR)} | ${f3(cal.fullModes.totalVariation)} | ${f3(cal.totalVariation.mean)} |`);
  }
  return lines;
}

export function formatDuration(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
