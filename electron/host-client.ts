import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import type { ServiceLike } from './main.ts';

/**
 * Main's handle on core, which runs in a child process (host-main.ts) started with plain Node:
 * - the kernels it forks then run on Node too, so native addons built for Node's ABI (tfjs-node,
 *   native/build) load, which they would not inside Electron's own Node;
 * - core's synchronous file work and kernel traffic never block Electron's main (UI) thread;
 * - core runs from source through tsx, as under `lref`, instead of being bundled into main.
 * `nodePath` is the launcher's Node (LREF_NODE); without it the child is Electron run as Node.
 */
export interface HostOptions {
  /** electron/host-main.ts */
  hostScript: string;
  /** file URL of tsx's loader, for `--import` */
  tsxLoader: string;
  workspace: string;
  nodePath?: string;
  forkFn?: (modulePath: string, args: string[], options: ForkOptions) => ChildProcess;
}

/** host → main */
type HostMessage = { seq: number; response: unknown } | { event: unknown };

export function startHost(opts: HostOptions): ServiceLike {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (opts.nodePath) delete env.ELECTRON_RUN_AS_NODE;
  else env.ELECTRON_RUN_AS_NODE = '1';
  const child = (opts.forkFn ?? fork)(opts.hostScript, ['--workspace', opts.workspace], {
    execPath: opts.nodePath ?? process.execPath,
    execArgv: ['--import', opts.tsxLoader],
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { id: number; resolve: (r: unknown) => void }>();
  const listeners = new Set<(e: unknown) => void>();
  let seq = 0;
  let exited: string | undefined;

  // A request that cannot reach core still gets a contract response, so the UI shows why.
  const failure = (id: number, message: string) => ({ id, ok: false, error: { code: 'internal', message } });
  const idOf = (raw: unknown) => (typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1);

  child.on('message', (m: HostMessage) => {
    if ('event' in m) for (const l of listeners) l(m.event);
    else if (typeof m?.seq === 'number') {
      pending.get(m.seq)?.resolve(m.response);
      pending.delete(m.seq);
    }
  });
  child.on('exit', (code, signal) => {
    exited = `the workbench's core process exited (${signal ?? `code ${code}`}); restart the app`;
    for (const p of pending.values()) p.resolve(failure(p.id, exited));
    pending.clear();
  });

  return {
    handleRequest(raw) {
      if (exited || !child.connected) return Promise.resolve(failure(idOf(raw), exited ?? "the workbench's core process is not connected"));
      return new Promise((resolve) => {
        const s = ++seq;
        pending.set(s, { id: idOf(raw), resolve });
        child.send({ seq: s, request: raw });
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      listeners.clear();
      if (exited) return;
      // The host disposes core (shuts its kernels down) when its IPC channel closes.
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      if (child.connected) child.disconnect();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      return done.finally(() => clearTimeout(kill));
    },
  };
}
