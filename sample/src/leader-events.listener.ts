import { Injectable, Logger } from '@nestjs/common';
import { OnLeaderChange, type LeaderChangeEvent } from 'nestjs-kube-leader';
import { REPORTS } from './reports.js';

@Injectable()
export class LeaderEventsListener {
  private readonly logger = new Logger('LeaderChange');

  @OnLeaderChange()
  onLeaderChange(event: LeaderChangeEvent): void {
    this.logger.log(
      event.isLeader
        ? `${event.identity} is now the leader of ${event.lease} (fencing token ${event.fencingToken})`
        : event.reason === 'observed'
          ? `${event.identity} follows; leader of ${event.lease}: ${event.leader ?? 'none'}`
          : `${event.identity} does not lead ${event.lease} (${event.reason})`,
    );
  }
}

/** The reports election's changes: one event per share, with `event.share` naming it. */
@Injectable()
export class ReportsEventsListener {
  private readonly logger = new Logger('ReportShares');

  @OnLeaderChange(REPORTS)
  onShareChange(event: LeaderChangeEvent): void {
    // This replica's own changes only: every replica sees every share's (reason 'observed').
    if (event.reason === 'observed') return;
    this.logger.log(
      event.isLeader
        ? `${event.identity} runs share ${event.share} (${event.lease}, fencing token ${event.fencingToken})`
        : `${event.identity} does not run share ${event.share} (${event.lease}, ${event.reason})`,
    );
  }
}
