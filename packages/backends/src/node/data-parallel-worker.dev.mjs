// Development bootstrap (running from TypeScript sources, e.g. in tests): register tsx's loader in
// this worker thread, then load the worker. The published package runs the built .js directly.
import { register } from 'tsx/esm/api';

register();
await import('./data-parallel-worker.ts');
