import { Controller, Get } from '@nestjs/common';
import { LeaderElectionRegistry, LeaderService } from 'nestjs-kube-leader';
import { REPORT_JOBS } from './reports.jobs.js';
import { REPORTS } from './reports.js';

@Controller()
export class ReportsController {
  constructor(
    private readonly leader: LeaderService,
    private readonly registry: LeaderElectionRegistry,
  ) {}

  /** Who runs each report job, and on which share (Lease) it runs, as this replica sees it. */
  @Get('reports')
  status() {
    const election = this.registry.get(REPORTS);
    return {
      identity: this.leader.getIdentity(REPORTS),
      jobs: REPORT_JOBS.map((job) => ({
        job,
        share: election.electors.indexOf(election.electorFor(job)),
        lease: election.electorFor(job).name,
        runsHere: this.leader.isLeaderFor(job, REPORTS),
        runner: this.leader.getLeaderFor(job, REPORTS),
      })),
    };
  }
}
