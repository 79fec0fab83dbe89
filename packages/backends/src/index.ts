export { BACKEND_NAMES, type BackendName } from './providers.js';
export {
  AUTO_ORDER,
  BackendError,
  formatBackendReport,
  initBackend,
  type BackendPreference,
  type BackendReport,
  type CandidateReport,
} from './init-backend.js';
export { nativeKernelCounters } from './wasm-native.js';
