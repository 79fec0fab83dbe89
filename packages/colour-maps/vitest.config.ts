import { probunetVitestConfig } from '../../vitest.shared.js';

export default probunetVitestConfig();
