// The consumer app of the compatibility matrix, written as a user writes a Nest app in TypeScript.
// test/compat/matrix.ts compiles it in every cell, once as an ES module (.mts) and once as CommonJS
// (.cts), against the packed package and the cell's Nest, client-node and Node.
//
// It speaks JSON lines: it prints events ({"event":"ready"|"change"|"work"|...}) on stdout and runs
// the commands it reads on stdin, one per line; SIGTERM closes it (enableShutdownHooks).
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import {
  Injectable,
  Module,
  type DynamicModule,
  type INestApplicationContext,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KubeConfig } from '@kubernetes/client-node';
import {
  LeaderElectionModule,
  LeaderOnly,
  LeaderService,
  OnLeaderChange,
  type LeaderChangeEvent,
  type LeaderElectionModuleOptions,
} from 'nestjs-kube-leader';

export function emit(event: string, data: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...data })}\n`);
}

@Injectable()
export class Jobs implements OnApplicationShutdown {
  private runs = 0;

  @LeaderOnly()
  work(): number {
    return ++this.runs;
  }

  @OnLeaderChange()
  changed(event: LeaderChangeEvent): void {
    emit('change', { leader: event.leader, isLeader: event.isLeader });
  }

  onApplicationShutdown(signal?: string): void {
    emit('shutdown', { signal: signal ?? null });
  }
}

export type Command = (app: INestApplicationContext) => unknown;

export interface ElectionAppParts {
  imports?: Array<Type<unknown> | DynamicModule>;
  providers?: Provider[];
  options?: Partial<LeaderElectionModuleOptions>;
  commands?: Record<string, Command>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export async function runElectionApp(parts: ElectionAppParts = {}): Promise<void> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(required('KUBECONFIG'));

  @Module({
    imports: [
      LeaderElectionModule.forRoot({
        leaseName: required('LEASE'),
        namespace: required('NAMESPACE'),
        identity: required('IDENTITY'),
        kubeConfig,
        leaseDuration: 3000,
        renewDeadline: 2000,
        retryPeriod: 500,
        ...parts.options,
      }),
      ...(parts.imports ?? []),
    ],
    providers: [Jobs, ...(parts.providers ?? [])],
  })
  class AppModule {}

  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['warn', 'error'] });
  app.enableShutdownHooks();
  const leader = app.get(LeaderService);
  const commands: Record<string, Command> = {
    work: (ctx) => ({ result: ctx.get(Jobs).work() ?? null, isLeader: leader.isLeader() }),
    status: () => ({ isLeader: leader.isLeader(), leader: leader.getLeader() }),
    ...parts.commands,
  };

  createInterface({ input: process.stdin }).on('line', (line) => {
    const name = line.trim();
    const command = commands[name];
    if (!command) {
      emit('error', { message: `unknown command ${JSON.stringify(name)}` });
      return;
    }
    Promise.resolve(command(app)).then(
      (result) => emit(name, { result }),
      (error: unknown) => emit('error', { command: name, message: String(error) }),
    );
  });
  emit('ready', {
    node: process.version,
    // `require` exists in a CommonJS module only.
    moduleKind: typeof require === 'function' ? 'commonjs' : 'module',
    identity: leader.identity,
  });
}
