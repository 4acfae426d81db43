export * from './derive.js';
export type { SweepState, SweepStateStore, TrialView, TrialStatus } from '../sweep/state.js';
export { attachPlainProgress } from './plain.js';
export { renderSweepDashboard, type DashboardHandle } from './render.js';
export { SweepDashboard, Header, RunningTrial, Leaderboard, FinishedLine } from './components.js';
