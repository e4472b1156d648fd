// Commands to the balancer process's control endpoint (see balancer-process.ts).
import { request } from 'node:http';
import type { BalancerCommand, BalancerStatus } from './balancer.js';

/** Sends one command and returns the balancer's status after it. */
export function balancerCommand(
  controlPort: number,
  command: BalancerCommand = { op: 'status' },
): Promise<BalancerStatus> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(command);
    const call = request(
      {
        host: '127.0.0.1',
        port: controlPort,
        method: 'POST',
        path: '/',
        agent: false,
        timeout: 5_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(JSON.parse(text) as BalancerStatus)
            : reject(new Error(`balancer: ${command.op} answered ${response.statusCode}: ${text}`)),
        );
      },
    );
    call.on('timeout', () => call.destroy(new Error(`balancer: ${command.op} timed out`)));
    call.on('error', reject);
    call.end(body);
  });
}
