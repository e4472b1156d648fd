import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { LeaderOnly, LeaderService } from 'nestjs-kube-leader';
import { RECONCILE_CONTEXT, RECONCILED } from './sample.messages.js';

/** Work that must run on exactly one replica: a reconcile loop every 2 seconds. */
@Injectable()
export class ReconcileJob {
  private readonly logger = new Logger(RECONCILE_CONTEXT);
  private runs = 0;

  constructor(private readonly leader: LeaderService) {}

  @Cron('*/2 * * * * *')
  @LeaderOnly()
  async reconcile(): Promise<{ run: number; fencingToken: string | null }> {
    this.runs += 1;
    // Pass the fencing token to downstream writes so they can reject a stale leader.
    const fencingToken = this.leader.fencingToken();
    this.logger.log(RECONCILED(this.runs, fencingToken));
    return { run: this.runs, fencingToken: fencingToken?.toString() ?? null };
  }
}
