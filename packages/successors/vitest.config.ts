import { probunetVitestConfig } from '../../vitest.shared.js';

export default probunetVitestConfig({ setupFiles: ['../core/test/setup-cpu.ts'], testTimeout: 300_000 });
