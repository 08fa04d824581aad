import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KernelMessage, type ErrorMessage, type KernelState } from './protocol.ts';

/**
 * The host side of a kernel: spawns worker.ts in a child process, sends execute requests, routes
 * the kernel's messages to the execution they belong to, interrupts, restarts and shuts down.
 * Used by `lref run` and (later) by the desktop app's main process and the browser-mode server.
 */
export interface KernelOptions {
  /** the kernel's working directory (the notebook's folder): relative paths and imports resolve here */
  cwd?: string;
  /** how long an interrupted cell may take to stop before the kernel is restarted instead */
  interruptGraceMs?: number;
  /** sees every message from the kernel (for a UI's status line) */
  onMessage?: (msg: KernelMessage) => void;
  /** every change of the kernel's state, with why when it died or restarts */
  onState?: (state: KernelState, reason?: string) => void;
}

export interface ExecuteOptions {
  cell_name?: string;
  cell_id?: string;
  /** this execution's messages as they arrive: streams and progress while the cell runs */
  onMessage?: (msg: KernelMessage) => void;
}

export interface ExecutionOutcome {
  msg_id: string;
  status: 'ok' | 'error';
  execution_count: number | null;
  error?: ErrorMessage;
  messages: KernelMessage[];
}

interface Pending {
  msg_id: string;
  onMessage?: (msg: KernelMessage) => void;
  messages: KernelMessage[];
  execution_count: number | null;
  error?: ErrorMessage;
  resolve: (o: ExecutionOutcome) => void;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const START_TIMEOUT_MS = 60_000;

let nextId = 0;

export class Kernel {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<string, Pending>();
  private running: string | undefined;
  private stderrTail = '';
  private _state: KernelState = 'dead';
  /** how many processes this kernel has started (restarts + 1) */
  generation = 0;

  private constructor(private readonly opts: KernelOptions) {}

  static async start(opts: KernelOptions = {}): Promise<Kernel> {
    const k = new Kernel(opts);
    await k.spawn();
    return k;
  }

  get state(): KernelState {
    return this._state;
  }

  private setState(state: KernelState, reason?: string): void {
    if (state === this._state) return;
    this._state = state;
    this.opts.onState?.(state, reason);
  }

  /** Runs one cell's code. Resolves when the kernel reports the execution idle (never rejects). */
  async execute(code: string, opts: ExecuteOptions = {}): Promise<ExecutionOutcome> {
    if (this._state === 'dead') await this.spawn();
    const msg_id = `exec-${process.pid}-${++nextId}`;
    return new Promise((resolve) => {
      this.pending.set(msg_id, { msg_id, onMessage: opts.onMessage, messages: [], execution_count: null, resolve });
      this.child!.send({ type: 'execute_request', msg_id, code, cell_name: opts.cell_name, cell_id: opts.cell_id });
    });
  }

  /**
   * Stops the running cell. 'interrupted': it stopped and the kernel keeps its state;
   * 'restarted': it did not stop within the grace time, so the process was replaced (state lost);
   * 'idle': nothing was running.
   */
  async interrupt(): Promise<'interrupted' | 'restarted' | 'idle'> {
    const running = this.running && this.pending.get(this.running);
    if (!running || !this.child) return 'idle';
    const settled = new Promise<boolean>((res) => {
      const prev = running.resolve;
      running.resolve = (o) => {
        prev(o);
        res(true);
      };
    });
    this.child.kill('SIGINT');
    const grace = this.opts.interruptGraceMs ?? 500;
    const stopped = await Promise.race([settled, new Promise<boolean>((r) => setTimeout(() => r(false), grace))]);
    if (stopped) return 'interrupted';
    await this.restart(`the cell did not stop within ${grace} ms of the interrupt, so the kernel was restarted (its variables are gone)`);
    return 'restarted';
  }

  /** A fresh process, so a fresh context. Pending executions end with a KernelRestarted error. */
  async restart(reason = 'the kernel was restarted'): Promise<void> {
    this.kill(reason, 'restarting');
    await this.spawn();
  }

  async shutdown(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    if (child.connected) child.send({ type: 'shutdown' });
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  }

  private kill(reason: string, state: KernelState): void {
    const child = this.child;
    this.child = undefined;
    this.setState(state, reason);
    if (child) {
      child.removeAllListeners('exit');
      child.kill('SIGKILL');
    }
    this.failPending(state === 'restarting' ? 'KernelRestarted' : 'KernelDied', reason);
  }

  private failPending(ename: string, evalue: string): void {
    for (const p of [...this.pending.values()]) {
      const err: ErrorMessage = { type: 'error', msg_id: p.msg_id, ename, evalue, traceback: [`${ename}: ${evalue}`] };
      this.route(err);
      this.route({ type: 'status', state: 'idle', msg_id: p.msg_id });
    }
    this.running = undefined;
  }

  private spawn(): Promise<void> {
    this.setState('starting');
    this.generation++;
    this.stderrTail = '';
    const child = fork(WORKER, [], {
      cwd: this.opts.cwd ?? process.cwd(),
      execArgv: ['--import', TSX_LOADER],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    // The worker captures its own output once started; this keeps what a crash at start prints.
    const keep = (b: Buffer) => (this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let started = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kernel did not start within ${START_TIMEOUT_MS / 1000} s\n${this.stderrTail}`)), START_TIMEOUT_MS);
      child.on('message', (raw) => {
        const parsed = KernelMessage.safeParse(raw);
        if (!parsed.success) return;
        const msg = parsed.data;
        if (msg.type === 'status' && msg.msg_id === undefined && msg.state === 'idle') {
          clearTimeout(timer);
          started = true;
          this.setState('idle');
          resolve();
        }
        this.route(msg);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (this.child !== child) return;
        this.child = undefined;
        const why = `the kernel process exited (${signal ?? `code ${code}`})${this.stderrTail ? `:\n${this.stderrTail}` : ''}`;
        this.setState('dead', why);
        this.failPending('KernelDied', why);
        if (!started) reject(new Error(why));
      });
    });
  }

  private route(msg: KernelMessage): void {
    this.opts.onMessage?.(msg);
    if (msg.type === 'status' && msg.msg_id === undefined) return;
    const p = this.pending.get(msg.msg_id ?? '');
    if (!p) return;
    p.messages.push(msg);
    p.onMessage?.(msg);
    if (msg.type === 'error') p.error = msg;
    if (msg.type === 'status' && msg.state === 'busy') {
      this.running = p.msg_id;
      this.setState('busy');
      p.execution_count = msg.execution_count ?? null;
    }
    if (msg.type === 'status' && msg.state === 'idle') {
      this.pending.delete(p.msg_id);
      if (this.running === p.msg_id) this.running = undefined;
      if (this._state === 'busy') this.setState('idle');
      p.resolve({ msg_id: p.msg_id, status: p.error ? 'error' : 'ok', execution_count: p.execution_count, error: p.error, messages: p.messages });
    }
  }
}
