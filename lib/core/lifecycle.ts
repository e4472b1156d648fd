import type { ElectionLoop } from './election-loop.js';
import { withdrawCandidate } from './announce-candidate.js';
import * as messages from './elector.messages.js';
import { ElectorStoppedError, LeadershipLostError } from './errors.js';
import { assertIdentity } from './identity.js';
import type { LeaseRecord, LeaseSpec } from './lease-record.js';
import type { Leadership } from './leadership.js';
import type { ReleaseSkipReason } from './metrics.js';
import { releaseLease } from './release.js';

/**
 * How an elector starts, hands over on purpose (step-down) and stops, on its loop's state: a stop
 * that comes during a step-down takes its release over, so the Lease is released once, naming the
 * step-down's successor. See {@link LeaderElector.stepDown} and {@link LeaderElector.stop}.
 */
export class Lifecycle {
  /** Releases the elector's hold on the process (see `Clock.keepAlive`), taken by start. */
  private releaseProcess: (() => void) | undefined;
  private stopPromise: Promise<void> | undefined;
  /** The successor a running stepDown() names: stop() names it too when it takes the release over. */
  private stepDownSuccessor: string | undefined;
  /** The release a running stepDown() is making: stop() waits for it instead of releasing twice. */
  private stepDownRelease: Promise<boolean> | undefined;
  /** Whether stop() released the Lease (a stepDown() interrupted by stop() answers with it). */
  private releasedOnStop = false;

  constructor(private readonly loop: ElectionLoop) {}

  /** Starts campaigning (the caller checked that the elector is idle). */
  start(): void {
    const loop = this.loop;
    loop.phase = 'running';
    this.releaseProcess = loop.clock.keepAlive?.();
    loop.metrics.started(loop.name);
    loop.logger?.debug?.(messages.CAMPAIGNING_FOR(loop.identity, loop.name));
    loop.requestAttempt();
  }

  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  /** Rejects an invalid `successor` (an identity) with an InvalidOptionError. */
  async stepDown(successor: string | undefined): Promise<boolean> {
    if (successor !== undefined) assertIdentity('successor', successor);
    const loop = this.loop;
    const leadership = loop.leadingTerm();
    if (!leadership) return false;
    loop.steppingDown = true;
    this.stepDownSuccessor = successor;
    leadership.controller.abort(new LeadershipLostError(messages.STEPPING_DOWN(loop.identity)));
    loop.emitIfChanged('stepping-down');
    const drained = await this.drainWork();
    if (loop.phase !== 'running') {
      // stop() came while the work drained: it releases what we hold (naming our successor), so
      // the Lease is not left to expire; its result is ours.
      await this.stopPromise;
      return this.releasedOnStop;
    }
    loop.succession.holdBack(loop.clock.now());
    let released = false;
    if (drained && loop.leadership === leadership) {
      loop.releasing = true;
      loop.timers.clear('attempt');
      // Set before any wait: a stop() from now on waits for this release instead of making its own.
      this.stepDownRelease = (async () => {
        if (loop.runningAttempt) await loop.runningAttempt.catch(() => undefined);
        return loop.leadership === leadership && (await this.release(successor));
      })();
      released = await this.stepDownRelease;
      this.stepDownRelease = undefined;
      if (loop.phase === 'running') loop.releasing = false; // stop() keeps it set
    }
    if (loop.leadership === leadership) loop.dropTerm(leadership);
    loop.steppingDown = false;
    this.stepDownSuccessor = undefined;
    loop.emitIfChanged(released ? 'released' : 'lost');
    if (loop.phase === 'running') loop.requestAttempt();
    return released;
  }

  private async doStop(): Promise<void> {
    const loop = this.loop;
    if (loop.phase === 'idle') {
      loop.phase = 'stopped';
      return;
    }
    // 1. Refuse new work and waiters; followers stop campaigning, a leader keeps renewing.
    loop.phase = 'stopping';
    loop.waiters.rejectAll(new ElectorStoppedError(messages.ELECTOR_STOPPED(loop.name)));
    loop.watch.close();
    loop.timers.clear('standby');
    const leadership = loop.leadership;
    if (leadership) {
      leadership.controller.abort(new LeadershipLostError(messages.SHUTTING_DOWN(loop.identity)));
    } else {
      loop.timers.clear('attempt');
    }
    loop.emitIfChanged('shutting-down');

    // 2. Wait (bounded) for admitted work.
    const drained = await this.drainWork();

    // 3. No more attempts: let the running one finish, then release what we hold. A step-down
    // already releasing: its release is ours.
    loop.releasing = true;
    loop.timers.clear('attempt');
    loop.timers.clear('validity');
    const steppingDown = this.stepDownRelease;
    const handedOver = steppingDown ? await steppingDown : false;
    if (loop.runningAttempt) await loop.runningAttempt.catch(() => undefined);
    // A follower among the successor candidates takes itself off them.
    if (loop.leadership === null && !steppingDown) await withdrawCandidate(loop);

    const held = loop.leadership;
    const released = handedOver || (held !== null && (await this.releaseOnStopOf(held, drained)));
    // The step-down's release failed and left nothing held: release() said why; count it.
    if (steppingDown && !released && held === null) {
      loop.metrics.releaseSkipped(loop.name, 'not-released');
    }
    this.releasedOnStop = released;

    // 4. Tear down.
    held?.controller.abort(new LeadershipLostError(messages.SHUTTING_DOWN(loop.identity)));
    loop.leadership = null;
    loop.timers.clear('attempt');
    loop.timers.clear('validity');
    loop.watch.close();
    loop.timers.clear('activation');
    loop.requests.abortAll(new ElectorStoppedError('stopped'));
    loop.phase = 'stopped';
    try {
      loop.lock.close?.();
    } catch (error) {
      loop.logger?.warn(messages.CLOSING_LOCK_FAILED(loop.lock.description, error));
    }
    loop.emitIfChanged(released ? 'released' : 'shutting-down');
    loop.events.clear();
    this.releaseProcess?.();
  }

  /** Releases the term stop() found held, or says why not: one log line and a metric. */
  private async releaseOnStopOf(held: Leadership, drained: boolean): Promise<boolean> {
    const loop = this.loop;
    const skipped = (reason: ReleaseSkipReason, why?: string) => {
      if (why !== undefined)
        loop.logger?.warn(messages.RELEASE_SKIPPED(loop.name, loop.identity, why));
      loop.metrics.releaseSkipped(loop.name, reason);
      return false;
    };
    if (!loop.context.releaseOnStop) return skipped('disabled', 'releaseOnStop is false');
    // Work may also have been admitted under a leadership that lapsed and was re-acquired while
    // we waited: release only with nothing running (WORK_OUTLIVED_GRACE said why).
    if (!drained) return skipped('work-running');
    if (loop.work.inFlight > 0) {
      return skipped('work-running', messages.WORK_STILL_RUNNING(loop.work.inFlight));
    }
    if (held.validFrom > loop.clock.now()) {
      // An empty holder is free to every peer at once (client-go's rule too), while the leader
      // before us may still lead: leaving our record to expire makes every peer wait for it.
      return skipped('term-not-started', messages.TERM_NOT_STARTED);
    }
    if (await this.release(this.stepDownSuccessor)) return true;
    return skipped('not-released'); // release() said why
  }

  /** Waits (bounded by `shutdownGracePeriod`) for admitted work; resolves whether it all ended. */
  private async drainWork(): Promise<boolean> {
    const { work, logger, name } = this.loop;
    const grace = this.loop.context.shutdownGracePeriod;
    if (work.inFlight === 0) return true;
    logger?.log(messages.WAITING_FOR_WORK(name, grace, work.inFlight));
    const drained = await work.waitForDrain(grace);
    if (!drained) logger?.warn(messages.WORK_OUTLIVED_GRACE(name, grace, work.inFlight));
    return drained;
  }

  /** Releases the Lease; resolves whether it did. */
  private async release(successor?: string): Promise<boolean> {
    const loop = this.loop;
    const isOurs = (record: LeaseRecord) => !loop.identityGuard.isForeign(record);
    const ledgerFor = (record: LeaseRecord, spec: LeaseSpec) =>
      loop.fires.forWrite(record, spec, false);
    const successorOf = (record: LeaseRecord) => loop.rollout.successorOf(record);
    const context = { ...loop.context, requests: loop.requests, isOurs, ledgerFor, successorOf };
    const held = loop.leadership;
    // Only with hooks: without them the release's timing is exactly what it was.
    if (held && loop.beforeRelease.size > 0) {
      const timeoutMs = loop.context.requestTimeout;
      await loop.beforeRelease.run(held.fencingToken, {
        clock: loop.clock,
        logger: loop.logger,
        name: loop.name,
        timeoutMs,
      });
    }
    const written = await releaseLease(context, loop.leadership?.record, successor);
    // The watch may have shown the successor's acquisition before the release's answer arrived.
    if (written) loop.observeAnswer(written);
    return written !== undefined;
  }
}
