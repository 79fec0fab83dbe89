import { parseArgs } from 'node:util';
import { formatBackendReport, initBackend, BackendError, type BackendPreference } from '@probunet/backends';

export const BACKENDS_HELP = `probunet backends — initialise a TensorFlow.js backend and report what runs and why the others do not.

Options:
  --backend NAME   auto | native | wasm-native | wasm | cpu | node | node-gpu | webgpu (default auto)
  --json           print the report as JSON
  -h, --help       this help
`;

export async function backends(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { backend: { type: 'string', default: 'auto' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(BACKENDS_HELP);
    return 0;
  }
  try {
    const report = await initBackend(values.backend as BackendPreference);
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatBackendReport(report)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof BackendError && values.json) {
      process.stdout.write(`${JSON.stringify({ error: err.message, candidates: err.candidates }, null, 2)}\n`);
      return 1;
    }
    throw err;
  }
}
