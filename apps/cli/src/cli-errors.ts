import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that cannot work as written (unknown option, bad value, missing argument): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit code of a run stopped by SIGINT/SIGTERM after it saved its checkpoint (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

type Options = NonNullable<ParseArgsConfig['options']>;

/** `parseArgs` in strict mode, with its errors (unknown option, missing value) turned into UsageErrors. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
}

/**
 * Runs a command body and turns what it throws into one line on stderr and an exit code: 2 for a
 * UsageError, 1 for anything else. The stack trace is printed only with `--verbose`.
 */
export async function runCommand(name: string, argv: string[], body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`probunet ${name}: ${message.split('\n')[0]}\n`);
    if (argv.includes('--verbose') && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else if (!(err instanceof UsageError)) process.stderr.write(`(run with --verbose for the stack trace)\n`);
    if (err instanceof UsageError) process.stderr.write(`Run 'probunet ${name} --help' for the options.\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
