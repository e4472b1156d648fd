import { Injectable, Logger } from '@nestjs/common';
import { OnLeaderChange, type LeaderChangeEvent } from 'nestjs-kube-leader';
import {
  DOES_NOT_LEAD,
  DOES_NOT_RUN_SHARE,
  FOLLOWS,
  LEADER_CHANGE_CONTEXT,
  LEADS,
  REPORT_SHARES_CONTEXT,
  RUNS_SHARE,
} from './sample.messages.js';
import { REPORTS } from './reports.js';

@Injectable()
export class LeaderEventsListener {
  private readonly logger = new Logger(LEADER_CHANGE_CONTEXT);

  @OnLeaderChange()
  onLeaderChange(event: LeaderChangeEvent): void {
    this.logger.log(
      event.isLeader
        ? LEADS(event.identity, event.lease, event.fencingToken)
        : event.reason === 'observed'
          ? FOLLOWS(event.identity, event.lease, event.leader)
          : DOES_NOT_LEAD(event.identity, event.lease, event.reason),
    );
  }
}

/** The reports election's changes: one event per share, with `event.share` naming it. */
@Injectable()
export class ReportsEventsListener {
  private readonly logger = new Logger(REPORT_SHARES_CONTEXT);

  @OnLeaderChange(REPORTS)
  onShareChange(event: LeaderChangeEvent): void {
    // This replica's own changes only: every replica sees every share's (reason 'observed').
    if (event.reason === 'observed') return;
    this.logger.log(
      event.isLeader
        ? RUNS_SHARE(event.identity, event.share, event.lease, event.fencingToken)
        : DOES_NOT_RUN_SHARE(event.identity, event.share, event.lease, event.reason),
    );
  }
}
