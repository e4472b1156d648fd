import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

async function bootstrap() {
  // rawBody: followers forward requests to the leader with their bodies' bytes as received.
  const app = await NestFactory.create(AppModule, { rawBody: true });
  // SIGTERM (Kubernetes stopping the pod) -> app.close(): leader-only work finishes, the lease is
  // released, and another replica takes over at once.
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '0.0.0.0');
  Logger.log(`Listening on ${await app.getUrl()}`, 'Bootstrap');
}

void bootstrap();
