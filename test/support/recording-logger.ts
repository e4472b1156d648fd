import type { LoggerService } from '@nestjs/common';

/** A Nest LoggerService that records `<level> <message>` lines instead of printing them. */
export class RecordingLoggerService implements LoggerService {
  readonly lines: string[] = [];
  log(message: string) {
    this.lines.push(`log ${message}`);
  }
  warn(message: string) {
    this.lines.push(`warn ${message}`);
  }
  error(message: string) {
    this.lines.push(`error ${message}`);
  }
  debug(message: string) {
    this.lines.push(`debug ${message}`);
  }
}
