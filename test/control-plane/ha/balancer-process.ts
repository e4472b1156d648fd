// The balancer process of the HA shape (see balancer.ts), started detached by ha-control-plane.ts
// with its configuration file as the only argument. Its control endpoint takes one JSON command per
// POST on 127.0.0.1:<controlPort> and answers with the balancer's status. SIGTERM closes it.
import fs from 'node:fs';
import http from 'node:http';
import { Balancer, type BalancerCommand, type BalancerConfig } from './balancer.js';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as BalancerConfig;
const balancer = new Balancer(config);

const control = http.createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    try {
      const command = (body ? JSON.parse(body) : { op: 'status' }) as BalancerCommand;
      const status = balancer.command(command);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status));
    } catch (error) {
      response.writeHead(400).end(error instanceof Error ? error.message : String(error));
    }
  });
});

await balancer.listen();
await new Promise<void>((resolve) => control.listen(config.controlPort, '127.0.0.1', resolve));
process.stdout.write(
  `${new Date().toISOString()} balancer on ${config.port}, control on ${config.controlPort}\n`,
);

for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    control.close();
    void balancer.close().then(() => process.exit(0));
  });
