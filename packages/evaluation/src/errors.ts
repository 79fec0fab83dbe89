/** A bad evaluation request (options, a model/dataset mismatch, parts that cannot merge); the message names the fix. */
export class EvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationError';
  }
}
