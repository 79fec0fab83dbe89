/** A problem with one file of a dataset; `file` names it. */
export class DataError extends Error {
  readonly file: string;
  /** `options.cause`: the lower-level error (e.g. the PickleError) behind the problem. */
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'DataError';
    this.file = file;
  }
}

/** What a loader in skip-and-report mode left out, and why. */
export interface SkipReport {
  skipped: Array<{ file: string; problem: string }>;
}
