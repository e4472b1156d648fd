import { Controller, Get } from '@nestjs/common';
import { LeaderService } from 'nestjs-kube-leader';
import { REPORT_JOBS } from './reports.jobs.js';
import { REPORTS } from './reports.js';

@Controller()
export class ReportsController {
  constructor(private readonly leader: LeaderService) {}

  /** Who runs each report job, as this replica sees it. Any replica answers. */
  @Get('reports')
  status() {
    return {
      identity: this.leader.getIdentity(REPORTS),
      jobs: REPORT_JOBS.map((job) => ({
        job,
        runsHere: this.leader.isLeaderFor(job, REPORTS),
        runner: this.leader.getLeaderFor(job, REPORTS),
      })),
    };
  }
}
