import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReceiverCommand, ReceiverStats } from './receiver-process.js';

type Command = ReceiverCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** The parent's handle on `receiver-process.ts`, running in its own process. */
export class ReceiverProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: any) => void>();

  private constructor(private readonly child: ChildProcess, readonly url: string) {
    child.on('message', (message: any) => {
      if (message?.type !== 'reply') return;
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message);
    });
  }

  static async start(timeoutMs = 20_000): Promise<ReceiverProcess> {
    const script = fileURLToPath(new URL('./receiver-process.ts', import.meta.url));
    const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver did not start within ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', (code) => reject(new Error(`receiver exited early (code ${code})`)));
      child.on('message', (message: any) => {
        if (message?.type === 'listening') {
          clearTimeout(timer);
          resolve(message.port);
        }
      });
    }).catch((error) => {
      child.kill();
      throw error;
    });
    return new ReceiverProcess(child, `http://127.0.0.1:${port}`);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private request<T>(command: Command, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`receiver did not answer "${command.cmd}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply as T);
      });
      this.child.send({ ...command, id });
    });
  }

  async reset(): Promise<void> {
    await this.request({ cmd: 'reset' });
  }

  async stats(): Promise<ReceiverStats> {
    return (await this.request<{ stats: ReceiverStats }>({ cmd: 'stats' })).stats;
  }

  /** Every hook receipt since the last reset: parallel arrays of event id and receipt time. */
  async collect(): Promise<{ stats: ReceiverStats; eventIds: string[]; times: number[] }> {
    return this.request({ cmd: 'collect' });
  }

  async sample(): Promise<{ body: string; headers: Record<string, string> } | null> {
    return (await this.request<{ sample: { body: string; headers: Record<string, string> } | null }>({ cmd: 'sample' })).sample;
  }

  /**
   * Resolves with the receipt time of the `count`-th hook request since the last reset;
   * rejects after `timeoutMs`. `onProgress` is called about every second meanwhile.
   */
  async waitFor(count: number, timeoutMs: number, onProgress?: (stats: ReceiverStats) => void): Promise<{ reachedAt: number; stats: ReceiverStats }> {
    const progress = onProgress
      ? setInterval(() => {
          this.stats().then(onProgress, () => undefined);
        }, 1_000)
      : null;
    try {
      return await this.request({ cmd: 'notifyAt', count }, timeoutMs);
    } finally {
      if (progress) clearInterval(progress);
    }
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.child.send({ cmd: 'close', id: 0 });
    } catch {
      // The channel is already gone.
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }
}
