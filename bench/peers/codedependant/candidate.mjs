// @codedependant/kubernetes-leader-election as a bench candidate: one Elector, used as its README
// shows, printing the candidates' JSON lines (test/support/candidates.ts): ready, new_leader,
// started_leading, stopped_leading, exit, log. Configured by the bench's environment:
//   KUBECONFIG, NAMESPACE, LEASE, IDENTITY, LEASE_DURATION_MS, RETRY_PERIOD_MS.
// What the library offers decides the mapping:
// - It talks to the API only when KUBERNETES_SERVICE_HOST is set (otherwise it claims leadership
//   without any request), and then loads KUBECONFIG (client-node's loadFromDefault); the bench sets both.
// - Its timings are `lease_duration_sec` (whole seconds) and `renew_interval_ms` (the leader's renew
//   period): LEASE_DURATION_MS rounded up to seconds, and RETRY_PERIOD_MS (client-go's leader renews
//   every retry period too). It has no renew deadline and no follower retry period.
// - It builds its own KubeConfig and takes no User-Agent: its requests carry client-node's default
//   User-Agent, so the audit log tells its candidates apart only by the Lease they use.
// - It reports its own leadership only (no observed leader): new_leader is printed for itself when it
//   acquires, never for another holder.
// - SIGUSR2 (request counts) is not answered: the library exposes no client to count on.
// Signals: SIGTERM/SIGINT call stop() (which releases a held Lease) and exit 0. `auto_close` is off:
// with it on, the library's own SIGTERM handler stops the elector but leaves the process running.
// A CommonJS package whose exports Node cannot name statically: its default export holds them.
import library from '@codedependant/kubernetes-leader-election';

const { Elector, EVENTS } = library;

const env = (name) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const identity = env('IDENTITY');
const lease = env('LEASE');
const emit = (event, fields = {}) =>
  process.stdout.write(
    `${JSON.stringify({ event, identity, lease, at: Date.now(), impl: 'codedependant', ...fields })}\n`,
  );

// An abstract-logging logger: errors and warnings become `log` lines, the rest is dropped.
const logAt = (level) => (first, message) =>
  emit('log', {
    level,
    message: typeof first === 'string' ? first : `${message ?? ''} ${first?.message ?? ''}`.trim(),
  });
const ignore = () => undefined;
const log = {
  fatal: logAt('error'),
  error: logAt('error'),
  warn: logAt('warn'),
  info: ignore,
  debug: ignore,
  trace: ignore,
  child() {
    return log;
  },
};

const elector = new Elector({
  identity,
  lease_name: lease,
  namespace: env('NAMESPACE'),
  lease_duration_sec: Math.ceil(Number(env('LEASE_DURATION_MS')) / 1000),
  renew_interval_ms: Number(env('RETRY_PERIOD_MS')),
  auto_close: false,
  log,
});

let leading = false;
elector.on(EVENTS.LEADERSHIP_ACQUIRED, () => {
  if (leading) return;
  leading = true;
  emit('new_leader', { leader: identity });
  emit('started_leading', { leader: identity });
});
elector.on(EVENTS.LEADERSHIP_LOST, () => {
  if (!leading) return;
  leading = false;
  emit('stopped_leading');
});

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await elector.stop();
  if (leading) {
    leading = false;
    emit('stopped_leading');
  }
  emit('exit');
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

emit('ready');
await elector.start();
