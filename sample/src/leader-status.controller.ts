import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { LeaderOnly, LeaderService } from 'nestjs-kube-leader';
import { ReconcileJob } from './reconcile.job.js';

@Controller()
export class LeaderStatusController {
  constructor(
    private readonly leader: LeaderService,
    private readonly job: ReconcileJob,
  ) {}

  /** Who leads, as this replica sees it. Any replica answers. */
  @Get('leader')
  status() {
    return {
      identity: this.leader.identity,
      isLeader: this.leader.isLeader(),
      leader: this.leader.getLeader(),
      fencingToken: this.leader.fencingToken(),
    };
  }

  /** Runs the reconcile now. Only the leader does; followers answer 503 naming the leader. */
  @Post('reconcile')
  @HttpCode(200)
  @LeaderOnly()
  reconcileNow() {
    return this.job.reconcile();
  }

  /**
   * The same, from any replica: a follower forwards the request to the leader and passes its
   * answer back (the election's `forwarding` option, docs/forwarding.md).
   */
  @Post('reconcile/via-leader')
  @HttpCode(200)
  @LeaderOnly({ forward: true })
  async reconcileOnLeader() {
    return { ranOn: this.leader.identity, result: await this.job.reconcile() };
  }
}
