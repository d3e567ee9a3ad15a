import fs from 'node:fs';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

/**
 * The audit trail's second copy: one JSON line per event in `<dir>/<name>`, rotated by size
 * (AUDIT_LOG_MAX_SIZE, keeping AUDIT_LOG_MAX_FILES), as the seed's dual write does. A line is written
 * after its transaction commits, so the file never holds an event the database rolled back.
 * Each process writes its own file (the web app `audit.log`, the job runner `audit-runner.log`):
 * rotation is not safe with two writers. Lines are best effort: the table is the record.
 */
export class AuditFile {
  private readonly stream: RotatingFileStream;
  private failed = false;

  constructor(
    dir: string,
    name: string,
    options: { maxSize: string; maxFiles: number; onError?: (err: Error) => void },
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
    this.stream = createStream(name, { path: dir, size: options.maxSize, maxFiles: options.maxFiles, mode: 0o640 });
    this.stream.on('error', (err: Error) => {
      if (!this.failed) options.onError?.(err);
      this.failed = true;
    });
  }

  write(event: Record<string, unknown>): void {
    this.stream.write(JSON.stringify(event) + '\n');
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.stream.end(() => resolve());
    });
  }
}
