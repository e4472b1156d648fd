/**
 * Prometheus metrics for the election, on prom-client (an optional peer: only this entry point
 * imports it). Pass an instance as the `metrics` option of `LeaderElectionModule.forRoot()` or of
 * a `LeaderElector`.
 */
export {
  PrometheusElectionMetrics,
  ELECTION_METRIC_NAMES,
  type PrometheusElectionMetricsOptions,
} from './prometheus-election-metrics.js';
export { SetupError } from '../leader-election.errors.js';
