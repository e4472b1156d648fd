// The README's "Testing your app" example, as a user's jest test: a @LeaderOnly() job under
// LeaderElectionTestingModule. Compiled in every cell (ES module and CommonJS) and run with the cell's
// jest against the packed package.
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { expect, it } from '@jest/globals';
import {
  LeaderOnly,
  LeaderService,
  OnLeaderChange,
  type LeaderChangeEvent,
} from 'nestjs-kube-leader';
import {
  LeaderElectionTestingService,
  LeaderElectionTestingModule,
} from 'nestjs-kube-leader/testing';

@Injectable()
class Billing {
  charged = 0;
  readonly changes: Array<string | null> = [];

  @LeaderOnly()
  async chargeDueInvoices(): Promise<number> {
    return ++this.charged;
  }

  @OnLeaderChange()
  onChange(event: LeaderChangeEvent): void {
    this.changes.push(event.leader);
  }
}

it('charges invoices only while leading', async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [LeaderElectionTestingModule.forRoot()],
    providers: [Billing],
  }).compile();
  await moduleRef.init();
  const billing = moduleRef.get(Billing);
  const leadership = moduleRef.get(LeaderElectionTestingService);

  expect(await billing.chargeDueInvoices()).toBe(1);

  await leadership.loseLeadership();
  expect(moduleRef.get(LeaderService).getLeader()).toBe('other-instance');
  expect(await billing.chargeDueInvoices()).toBeUndefined();

  await leadership.becomeLeader();
  expect(await billing.chargeDueInvoices()).toBe(2);
  expect(billing.changes).toEqual(['test-instance', 'other-instance', 'test-instance']);
  await moduleRef.close();
});
