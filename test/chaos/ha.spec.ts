// The HA shape inside `npm test`: three etcd members and two API servers behind a TCP balancer,
// three replicas (a leader and two followers) and client-go's three candidates beside them, through
// a rolling restart of the API servers (each stopped gracefully, started again and ready before the
// next). `npm run test:chaos -- --ha` runs every HA fault kind, 100 and more.
import { runChaos } from './harness.js';

describe('fault injection on the HA control plane (short run)', () => {
  it('keeps one leader with increasing fencing tokens through a rolling restart of the API servers, and both elections lead again', async () => {
    const report = await runChaos({
      seed: 1,
      faults: 1,
      sequence: ['ha-apiservers-rolling-restart'],
      ha: { healthChecks: false },
    });
    expect(report.error).toBeUndefined();
    expect(report.faults.map((f) => f.name)).toEqual(['ha-apiservers-rolling-restart']);
    expect(report.overlapMs).toBe(0);
    expect(report.overlapCases).toEqual([]);
    expect(report.fencing).toBeUndefined();
    expect(report.missedChanges).toBe(0);
    expect(report.cron.lostOutsideFaults).toBe(0);
    // The once job: no fire twice, every fire run or given an outcome, with writes and watches
    // spread over both servers.
    expect(report.once!.doubled).toEqual([]);
    expect(report.once!.unaccounted).toEqual([]);
    const [fault] = report.faults;
    // Both elections talked to the servers during the fault (the merged audit logs counted them).
    expect(fault.ha!.requests.ours).toBeGreaterThan(0);
    expect(fault.ha!.requests.clientGo).toBeGreaterThan(0);
    expect(report.totalWorkRuns).toBeGreaterThan(10);
  }, 180_000);
});
