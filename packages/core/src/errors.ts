/** Base class of every error probunet raises on purpose; `code` is stable for programs to branch on. */
export class ProbUNetError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration, or a set of components, that cannot work together. */
export class ConfigError extends ProbUNetError {
  constructor(message: string) {
    super('config', message);
  }
}

/** A tensor or value passed in has the wrong rank, shape, dtype or contents. */
export class InputError extends ProbUNetError {
  constructor(message: string) {
    super('input', message);
  }
}

/**
 * Training produced a loss, gradient or update that is NaN or infinite; no update was applied and
 * the trainer's state (step, RNG, Adam's moments) is as it was before the step.
 */
export class NonFiniteLossError extends ProbUNetError {
  readonly step: number;
  constructor(step: number, message: string) {
    super('non-finite-loss', message);
    this.step = step;
  }
}

/** A checkpoint that is truncated, corrupt, or of another format. */
export class CheckpointError extends ProbUNetError {
  constructor(message: string) {
    super('checkpoint', message);
  }
}

/** The model's weights hold NaN or Inf: its outputs would be meaningless (all one class, NaN scores). */
export class NonFiniteWeightsError extends ProbUNetError {
  /** The first parameter, by checkpoint name, that holds a non-finite value. */
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super('non-finite-weights', message);
    this.parameter = parameter;
  }
}

/** A model, trainer or worker pool used after `dispose()` / `close()`. */
export class DisposedError extends ProbUNetError {
  constructor(message: string) {
    super('disposed', message);
  }
}

/** No TensorFlow.js backend is registered: nothing can compute until one is initialised. */
export class NoBackendError extends ProbUNetError {
  constructor(what: string) {
    super(
      'no-backend',
      `${what} needs a TensorFlow.js backend, and none is registered: call initBackend() from @probunet/backends first ` +
        "(await initBackend('auto'), or name one: 'native', 'wasm-native', 'wasm', 'webgpu', 'cpu')",
    );
  }
}
