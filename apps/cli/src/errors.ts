/** A command line that cannot run as given: an option's value or an output location. The message names it and the fix. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
