import { Injectable, Logger } from '@nestjs/common';
import { OnLeaderChange, type LeaderChangeEvent } from 'nestjs-kube-leader';

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
