import { probunetVitestConfig } from '../../vitest.shared.js';

// The browser test drives Chromium on a software GPU: minutes, not seconds.
export default probunetVitestConfig({ testTimeout: 600_000 });
