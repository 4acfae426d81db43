export {
  preflight,
  audioCacheFor,
  checkConfigValues,
  type PreflightOptions,
  type PreflightReport,
} from './preflight.js';
