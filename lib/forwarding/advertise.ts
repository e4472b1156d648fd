import type { Server } from 'node:net';
import type { HttpAdapterHost } from '@nestjs/core';
import type { Election } from '../election.js';
import { NO_ADVERTISED_ADDRESS, NO_LISTENING_PORT } from './forwarding.messages.js';

/**
 * With `forwarding`: makes each elector of the election advertise this replica's address (the
 * option's, else `POD_IP`) and port (the option's, else the port the app's HTTP server listens
 * on, known once `app.listen()` bound it), so that every write of its terms carries them. Warns
 * when either cannot be found: followers then answer 503 while this replica leads.
 */
export function advertiseWhenListening(election: Election, adapterHost?: HttpAdapterHost): void {
  const forwarding = election.forwarding;
  if (!forwarding) return;
  const ip = forwarding.address;
  if (ip === undefined) {
    election.logger?.warn(NO_ADVERTISED_ADDRESS(election.name));
    return;
  }
  const advertise = (port: number) => {
    for (const elector of election.electors) elector.advertise({ ip, port });
  };
  if (forwarding.port !== undefined) return advertise(forwarding.port);
  const server = adapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
  if (!server || typeof server.address !== 'function') {
    election.logger?.warn(NO_LISTENING_PORT(election.name));
    return;
  }
  const bound = () => {
    const address = server.address();
    if (address && typeof address === 'object') advertise(address.port);
  };
  if (server.listening) bound();
  else server.once('listening', bound);
}
