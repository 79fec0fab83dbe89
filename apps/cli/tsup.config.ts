import { probunetTsupConfig } from '../../tsup.shared.js';

export default probunetTsupConfig({ index: 'src/index.ts' }, { target: 'node20' });
