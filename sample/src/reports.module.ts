import { Module, type DynamicModule } from '@nestjs/common';
import { LeaderElectionModule, type LeaderElectionModuleOptions } from 'nestjs-kube-leader';
import { ReportsEventsListener } from './leader-events.listener.js';
import { ReportsController } from './reports.controller.js';
import { ReportJobs } from './reports.jobs.js';
import { REPORTS, REPORTS_SHARES, reportsLeaseName } from './reports.js';

/**
 * The `reports` election, next to the app's own: the report jobs spread over 6 shares. With three
 * replicas each leads two shares; when one goes, the others take its shares; when one joins, the
 * others hand it shares, one at a time.
 */
@Module({})
export class ReportsModule {
  /** `options`: the app's election options; the Lease name is derived from its `leaseName`. */
  static register(options: LeaderElectionModuleOptions): DynamicModule {
    return {
      module: ReportsModule,
      imports: [
        LeaderElectionModule.forRoot({
          ...options,
          election: REPORTS,
          leaseName: reportsLeaseName(options.leaseName),
          shares: REPORTS_SHARES,
        }),
      ],
      controllers: [ReportsController],
      providers: [ReportJobs, ReportsEventsListener],
    };
  }
}
