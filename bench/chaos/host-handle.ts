import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CRASH_END_MARKER, CRASH_MARKER, type HookCall, type HostCommand, type HostConfig, type HostMessage, type LoadSummary, type StopSummary } from './host-protocol.js';

type Command = HostCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

const now = (): number => performance.timeOrigin + performance.now();
const STDERR_KEEP = 256 * 1024;

/** A host child that exited without being told to: what it said on the way out. */
export interface CrashReport {
  host: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
  /** The uncaught error the child wrote to stderr (see CRASH_MARKER), or the end of its stderr. */
  error: string;
}

export type HostStart =
  | { kind: 'ready'; host: HostProcess }
  /** The plugin rejected options the scenario needs: the feature is not there yet. */
  | { kind: 'unsupported'; paths: string[]; message: string };

/**
 * The parent's handle on one host child (`host-process.ts`). Collects the child's hook-call
 * reports and plugin log lines, and tells an exit the parent asked for (stop, kill) from a crash.
 */
export class HostProcess {
  /** Every settled hook call the child reported, in report order. */
  readonly calls: HookCall[] = [];
  readonly logs: Array<{ level: string; message: string; fields: string }> = [];
  /** Options the plugin rejected as unknown (so the scenario ran with the plugin's defaults). */
  dropped: string[] = [];
  documentedHookTimeoutMs: number | null = null;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null; at: number } | null = null;
  stopSummary: StopSummary | null = null;
  private stderr = '';
  /** Why the parent expects the child to exit, once it does. */
  private asked: 'stop' | 'kill' | 'unsupported' | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Resolves when the child has exited, for whatever reason. */
  readonly exited: Promise<void>;

  private constructor(readonly name: string, private readonly child: ChildProcess) {
    child.stderr?.on('data', (chunk: Buffer) => this.keep(chunk));
    child.stdout?.on('data', (chunk: Buffer) => this.keep(chunk));
    child.on('message', (message: HostMessage) => this.onMessage(message));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal, at: now() };
        const reason = new Error(`host ${name} exited (code ${code}, signal ${signal}) before answering`);
        for (const { reject } of this.pending.values()) reject(reason);
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Forks a host and waits until its plugin has started (or says an option it needs is unknown). */
  static async start(name: string, config: HostConfig, timeoutMs = 60_000): Promise<HostStart> {
    const script = fileURLToPath(new URL('./host-process.ts', import.meta.url));
    const child = fork(script, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, CHAOS_HOST_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const host = new HostProcess(name, child);
    let timer: NodeJS.Timeout | undefined;
    try {
      const first = await new Promise<HostMessage>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`host ${name} did not start within ${timeoutMs} ms; output: ${host.stderr.slice(-2_000)}`)), timeoutMs);
        child.on('message', (message: HostMessage) => {
          if (message.type === 'ready' || message.type === 'unsupported' || message.type === 'fatal') resolve(message);
        });
        void host.exited.then(() => reject(new Error(`host ${name} exited while starting (${JSON.stringify(host.exitInfo)}): ${host.stderr.slice(-4_000)}`)));
      });
      if (first.type === 'fatal') throw new Error(`host ${name} could not start the plugin: ${first.error}`);
      if (first.type === 'unsupported') {
        host.asked = 'unsupported';
        await host.exited;
        return { kind: 'unsupported', paths: first.paths, message: first.message };
      }
      if (first.type === 'ready') {
        host.dropped = first.dropped;
        host.documentedHookTimeoutMs = first.documentedHookTimeoutMs;
      }
      return { kind: 'ready', host };
    } catch (error) {
      await host.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a host the scenario cannot run without; an "unsupported" answer is an error here. */
  static async startOrThrow(name: string, config: HostConfig): Promise<HostProcess> {
    const started = await HostProcess.start(name, config);
    if (started.kind !== 'ready') throw new Error(`host ${name}: the plugin rejected ${started.paths.join(', ')}: ${started.message}`);
    return started.host;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  /**
   * Set when the child exited although nobody asked it to, or died of an uncaught error while
   * stopping. A SIGKILL the parent sent is never a crash.
   */
  get crash(): CrashReport | null {
    if (!this.exitInfo || this.asked === 'kill' || this.asked === 'unsupported') return null;
    const marker = this.stderr.lastIndexOf(CRASH_MARKER);
    if (this.asked === 'stop' && marker < 0) return null;
    const end = marker >= 0 ? this.stderr.indexOf(CRASH_END_MARKER, marker) : -1;
    let error = marker >= 0 ? this.stderr.slice(marker, end > marker ? end : marker + 4_000) : this.stderr.slice(-3_000);
    // For an unhandled 'error' event, Node's own dump (after the marker) names the emitter: the culprit.
    const emitted = /Emitted 'error' event on [^\n]*\n(?:[ \t]+at [^\n]*\n?){0,12}/.exec(this.stderr.slice(Math.max(0, marker)));
    if (emitted) error += `\n${emitted[0]}`;
    return { host: this.name, ...this.exitInfo, error: error.trim() };
  }

  /** `plugin.stop()` did not finish in time and the child gave up (it exits 4 then). */
  get stopHung(): boolean {
    return this.asked === 'stop' && this.exitInfo?.code === 4;
  }

  /** The child's stderr and stdout, last 256 KiB. */
  get output(): string {
    return this.stderr;
  }

  async createWebhook(tenantId: string, name: string, url: string, events = ['*']): Promise<{ webhookId: string; secret: string }> {
    return this.request({ cmd: 'createWebhook', tenantId, name, url, events });
  }

  /** Open-loop hook calls in the child; resolves when they have all settled (or rejects if the child dies). */
  load(tenantId: string, rate: number, seconds: number, settleMs = 30_000): Promise<LoadSummary> {
    return this.request({ cmd: 'load', tenantId, rate, seconds, settleMs });
  }

  /** Ends the running load now (its `load()` promise then resolves as usual). */
  async endLoad(): Promise<void> {
    await this.request({ cmd: 'endLoad' });
  }

  /** `plugin.stop()` and exit; SIGKILL if that takes longer than `timeoutMs`. No-op on a dead child. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.alive) return;
    this.asked = 'stop';
    const killTimer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs + 5_000);
    try {
      this.stopSummary = await this.request<StopSummary>({ cmd: 'stop', timeoutMs });
    } catch {
      // It died meanwhile, or stop() hung (the child exits 4 then): exitInfo says which.
    }
    await this.exited;
    clearTimeout(killTimer);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return;
    this.asked = 'kill';
    this.child.kill(signal);
    await this.exited;
  }

  private keep(chunk: Buffer): void {
    this.stderr += chunk.toString('utf8');
    if (this.stderr.length > STDERR_KEEP) this.stderr = this.stderr.slice(-STDERR_KEEP);
  }

  private onMessage(message: HostMessage): void {
    switch (message.type) {
      case 'calls':
        for (const call of message.calls) this.calls.push({ ...call, host: this.name });
        break;
      case 'log':
        this.logs.push({ level: message.level, message: message.message, fields: message.fields });
        break;
      case 'reply': {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (!waiter) break;
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(`host ${this.name}: ${message.error}`));
        break;
      }
      default:
        break;
    }
  }

  private request<T>(command: Command): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`host ${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...command, id } as HostCommand);
    });
  }
}
