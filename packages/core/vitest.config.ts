import { probunetVitestConfig } from '../../vitest.shared.js';

export default probunetVitestConfig({ setupFiles: ['./test/setup-cpu.ts'] });
