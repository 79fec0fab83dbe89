import { probunetTsupConfig } from '../../tsup.shared.js';

export default probunetTsupConfig({ index: 'src/index.ts' });
