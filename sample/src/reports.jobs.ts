import { Injectable, Logger } from '@nestjs/common';
import { Cron, Interval } from '@nestjs/schedule';
import { LeaderOnly, LeaderService } from 'nestjs-kube-leader';
import { REPORTS } from './reports.js';

/** The report jobs, by the names `@LeaderOnly({ job })` gives them below. */
export const REPORT_JOBS = [
  'sales-report',
  'usage-report',
  'error-report',
  'revenue-report',
  'churn-report',
  'stock-report',
] as const;

/**
 * Work that must run on one replica at a time, but not all on the same one: each job runs on the
 * leader of its share (the job's name decides the share, the same on every replica), so the
 * replicas share the jobs. The names are stable on purpose: renaming a job may move it to another
 * share.
 */
@Injectable()
export class ReportJobs {
  private readonly logger = new Logger(ReportJobs.name);
  private readonly runs = new Map<string, number>();

  constructor(private readonly leader: LeaderService) {}

  @Cron('*/2 * * * * *')
  @LeaderOnly({ election: REPORTS, job: 'sales-report' })
  salesReport(): void {
    this.report('sales-report');
  }

  @Interval(3_000)
  @LeaderOnly({ election: REPORTS, job: 'usage-report' })
  usageReport(): void {
    this.report('usage-report');
  }

  @Cron('*/5 * * * * *')
  @LeaderOnly({ election: REPORTS, job: 'error-report' })
  errorReport(): void {
    this.report('error-report');
  }

  @Interval(4_000)
  @LeaderOnly({ election: REPORTS, job: 'revenue-report' })
  revenueReport(): void {
    this.report('revenue-report');
  }

  @Cron('*/3 * * * * *')
  @LeaderOnly({ election: REPORTS, job: 'churn-report' })
  churnReport(): void {
    this.report('churn-report');
  }

  @Interval(5_000)
  @LeaderOnly({ election: REPORTS, job: 'stock-report' })
  stockReport(): void {
    this.report('stock-report');
  }

  private report(job: (typeof REPORT_JOBS)[number]): void {
    // Each job has its own leader and fencing token: ask per job, right before the side effect.
    const fencingToken = this.leader.fencingTokenFor(job, REPORTS);
    if (!fencingToken) return;
    const run = (this.runs.get(job) ?? 0) + 1;
    this.runs.set(job, run);
    this.logger.log(`${job} run ${run} (fencing token ${fencingToken})`);
  }
}
