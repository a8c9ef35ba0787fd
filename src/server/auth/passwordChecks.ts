/**
 * bcrypt comparisons in worker threads. bcryptjs is plain JavaScript: on the event loop a comparison holds
 * the loop for its whole length (in slices of up to 100 ms), and Node takes in one new connection per turn
 * of the loop, so while wrong passwords were being checked the registry took in new connections, every
 * client's, at one per bcrypt. In a worker the loop stays free to accept, to answer, and to refuse a guess
 * past its queue.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker, workerScript } from '../workerThreads';

/** Whether `password` matches the bcrypt `hash`. */
export type PasswordCompare = (password: string, hash: string) => Promise<boolean>;

/** The messages between the pool and its workers. */
export interface CompareTask {
  id: number;
  password: string;
  hash: string;
}
export type CompareAnswer = { id: number; match: boolean } | { id: number; error: string };

interface Pending {
  task: CompareTask;
  resolve: (match: boolean) => void;
  reject: (error: Error) => void;
}

export class PasswordCheckPool {
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  /** `workerFile`: by default the bundled `passwordWorker.js` beside this file. */
  constructor(private readonly maxWorkers: number, private readonly workerFile = workerScript(__dirname, 'passwordWorker')) {}

  /** Workers started and not stopped; they stay for the next check (no heap worth giving back). */
  get workers(): number {
    return this.idle.length + this.running.size;
  }

  readonly compare: PasswordCompare = (password, hash) => {
    if (this.closed) return Promise.reject(new Error('the registry is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { id: this.nextId++, password, hash }, resolve, reject });
      this.dispatch();
    });
  };

  async close(): Promise<void> {
    this.closed = true;
    const stopping = new Error('the registry is shutting down');
    for (const pending of [...this.queue.splice(0), ...this.running.values()]) pending.reject(stopping);
    const workers = [...this.idle.splice(0), ...this.running.keys()];
    this.running.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.workers < this.maxWorkers ? this.spawn() : undefined);
      if (!worker) return;
      const pending = this.queue.shift() as Pending;
      this.running.set(worker, pending);
      worker.postMessage(pending.task);
    }
  }

  private spawn(): Worker {
    const worker = startWorker(this.workerFile);
    worker.on('message', (answer: CompareAnswer) => {
      const pending = this.running.get(worker);
      if (!pending || pending.task.id !== answer.id) return;
      this.running.delete(worker);
      this.idle.push(worker);
      if ('error' in answer) pending.reject(new Error(`the password check failed: ${answer.error}`));
      else pending.resolve(answer.match);
      this.dispatch();
    });
    const gone = (error: Error | undefined): void => {
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
      const pending = this.running.get(worker);
      this.running.delete(worker);
      pending?.reject(new Error(`the password check thread stopped: ${error?.message ?? 'it exited'}`));
      // The next check gets a fresh worker.
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (e) => gone(e));
    worker.on('exit', (code) => gone(code === 0 ? undefined : new Error(`exited with code ${code}`)));
    return worker;
  }
}
