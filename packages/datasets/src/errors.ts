/** A problem with one file of a dataset; `file` names it. */
export class DataError extends Error {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'DataError';
    this.file = file;
  }
}

/** What a loader in skip-and-report mode left out, and why. */
export interface SkipReport {
  skipped: Array<{ file: string; problem: string }>;
}
