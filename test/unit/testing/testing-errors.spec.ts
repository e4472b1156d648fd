// LeaderElectionTestingService's errors are LeaderElectionErrors whose messages say what to change.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  ElectorStoppedError,
  InvalidOptionError,
  LeaderElectionError,
  LeaderElectionModule,
} from '../../../lib/index.js';
import type { LeaderElector } from '../../../lib/core/index.js';
import { until } from '../../../lib/testing/leader-election-testing.service.js';
import {
  InMemoryLeaseLock,
  InMemoryLeaseStore,
  InvalidArgumentError,
  LeaderElectionTestingModule,
  LeaderElectionTestingService,
  SetupError,
  TestingTimeoutError,
} from '../../../lib/testing/index.js';

describe('LeaderElectionTestingService errors', () => {
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  async function leadership(imports: unknown[], init = true) {
    moduleRef = await Test.createTestingModule({ imports: imports as [] }).compile();
    if (init) await moduleRef.init();
    return moduleRef.get(LeaderElectionTestingService);
  }

  it('setLeader without an identity is an InvalidArgumentError', async () => {
    const service = await leadership([LeaderElectionTestingModule.forRoot()]);
    const act = service.setLeader('');
    await expect(act).rejects.toThrow(InvalidArgumentError);
    const error = (await act.catch((e: unknown) => e)) as InvalidArgumentError;
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toBeInstanceOf(LeaderElectionError);
    expect([error.name, error.option, error.rule, error.value, error.message]).toEqual([
      'InvalidArgumentError',
      'identity',
      'must be a non-empty string',
      '',
      'setLeader(identity): identity must be a non-empty string',
    ]);
  });

  it('an election of LeaderElectionModule is a SetupError', async () => {
    const service = await leadership([
      LeaderElectionTestingModule.forRoot(),
      LeaderElectionModule.forRoot({
        election: 'billing',
        leaseName: 'billing',
        lock: new InMemoryLeaseLock(new InMemoryLeaseStore(), 'pod-a', 'billing'),
        logger: false,
      }),
    ]);
    const act = service.becomeLeader('billing');
    await expect(act).rejects.toThrow(SetupError);
    await expect(act).rejects.toBeInstanceOf(LeaderElectionError);
    await expect(act).rejects.toThrow(
      /^The election "billing" was not registered by LeaderElectionTestingModule.forRoot\(\); /,
    );
  });

  it('an election not started (compiled, not initialized) is a SetupError', async () => {
    const service = await leadership([LeaderElectionTestingModule.forRoot()], false);
    const act = service.loseLeadership();
    await expect(act).rejects.toThrow(SetupError);
    await expect(act).rejects.toBeInstanceOf(LeaderElectionError);
    await expect(act).rejects.toThrow(/^The election "default" has not started: /);
  });

  it('an election stopped (the app closed) is an ElectorStoppedError', async () => {
    const service = await leadership([LeaderElectionTestingModule.forRoot()]);
    await moduleRef!.close();
    moduleRef = undefined;
    const act = service.becomeLeader();
    await expect(act).rejects.toThrow(ElectorStoppedError);
    await expect(act).rejects.toBeInstanceOf(LeaderElectionError);
    await expect(act).rejects.toThrow(
      /^The election "default" is stopped \(the app was closed\)\.$/,
    );
  });

  it('a change that does not come is a TestingTimeoutError', async () => {
    // What `until` reads of an elector: its change events (none come), state and phase.
    const elector = {
      onChange: () => () => {},
      currentState: { leader: 'pod-b' },
      status: () => ({ phase: 'running' }),
    } as unknown as LeaderElector;
    jest.useFakeTimers();
    try {
      const act = until(elector, () => false, 'pod-a to lead');
      jest.advanceTimersByTime(5_000);
      await expect(act).rejects.toThrow(TestingTimeoutError);
      await expect(act).rejects.toBeInstanceOf(LeaderElectionError);
      await expect(act).rejects.toThrow(
        /^LeaderElectionTestingModule: timed out after 5000 ms waiting for pod-a to lead \(leader: pod-b, phase: running\)\. /,
      );
    } finally {
      jest.useRealTimers();
    }
  });
});
