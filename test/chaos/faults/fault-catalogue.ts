// Every fault kind's injection, by name, gathered from the families (the compiler checks that
// every kind has one).
import type { FaultName } from '../fault-kinds.js';
import { API_SERVER_FAULTS } from './api-server-faults.js';
import { CLOCK_FAULTS } from './clock-faults.js';
import type { Fault } from './fault.js';
import { HA_FAULT_FAMILY } from './ha-faults.js';
import { LEASE_DELETION_RACES } from './lease-deletion-races.js';
import { LEASE_EDIT_FAULTS } from './lease-edit-faults.js';
import { NETWORK_FAULTS } from './network-faults.js';
import { PROCESS_FAULTS } from './process-faults.js';
import { ROLLOUT_FAULTS } from './rollout-faults.js';
import { SPREAD_MEMBER_FAULTS } from './spread-member-faults.js';
import { SPREAD_MEMBERSHIP_EDITS } from './spread-membership-edits.js';

export const FAULTS: Record<FaultName, Fault> = {
  ...PROCESS_FAULTS,
  ...NETWORK_FAULTS,
  ...API_SERVER_FAULTS,
  ...LEASE_EDIT_FAULTS,
  ...LEASE_DELETION_RACES,
  ...CLOCK_FAULTS,
  ...ROLLOUT_FAULTS,
  ...SPREAD_MEMBER_FAULTS,
  ...SPREAD_MEMBERSHIP_EDITS,
  ...HA_FAULT_FAMILY,
};
