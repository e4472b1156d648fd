// Jest globalTeardown for the integration project: stops the control plane only if globalSetup started
// it (a reused one, named by NKL_CONTROL_PLANE_STATE, keeps running). See jest-global-setup.ts for why
// this goes through globalThis and the CLI rather than importing control-plane.ts.
import type { StartedByJest } from './jest-global-setup.js';

export default async function globalTeardown(): Promise<void> {
  const started: StartedByJest | undefined = globalThis.__nklControlPlaneStartedByJest;
  if (!started) return;
  globalThis.__nklControlPlaneStartedByJest = undefined;
  await started.stop();
}
