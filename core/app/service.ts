import { existsSync, mkdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { toWire } from '../analysis/decisions.ts';
import { loadDecisions, pairDetail, type RunRef } from '../analysis/load-decisions.ts';
import { exportReview, readReview, setMark } from '../analysis/review.ts';
import { Slice } from '../analysis/slices.ts';
import { parseJsonText } from '../util/json.ts';
import { loadTemplate, parseTemplate, PLACEHOLDERS } from '../text/prompts.ts';
import { z } from 'zod';
import { Kernel, type KernelOptions } from '../kernel/kernel.ts';
import { diffRuns, listRuns } from '../runs/catalog.ts';
import { SelectionRecord } from '../runs/schema.ts';
import { readJsonl } from '../runs/store.ts';
import { newCodeCell, newNotebook, parseNotebook, serializeNotebook } from '../kernel/nbformat.ts';
import { UserError } from '../util/errors.ts';
import { AppFailure, parseParams, Request, type AppEvent, type Op, type ResultOf, type Response } from './contract.ts';
import { editorTypes } from './editor-types.ts';
import { EDITOR_TYPES_FILE } from './renderer-build.ts';
import { Workspace } from './workspace.ts';

/**
 * Core's side of the app, whatever carries it: Electron IPC or browser mode's WebSocket call
 * `handleRequest` and forward `onEvent`. One kernel process per open notebook (as JupyterLab),
 * started on open, with a queue per notebook so "run all" stops at the first failing cell.
 */
export interface AppServiceOptions {
  workspace: string;
  shell: 'electron' | 'browser';
  /** starts a kernel; tests may pass a fake */
  startKernel?: (opts: KernelOptions) => Promise<Kernel>;
  /** how long an interrupted cell may take to stop before its kernel is restarted */
  interruptGraceMs?: number;
}

interface QueuedCell {
  cell_id: string;
  code: string;
}

interface Session {
  path: string;
  kernel?: Kernel;
  starting?: Promise<Kernel>;
  queue: QueuedCell[];
  running?: string;
}

/** Saved slices, one file per workspace: a slice is a filter, so it applies to any run. */
const SLICES_FILE = 'slices.json';
const SlicesFile = z.object({ version: z.literal(1), slices: z.array(Slice) });

type Handler<K extends Op> = (params: ReturnType<typeof parseParams<K>>) => Promise<ResultOf<K>> | ResultOf<K>;

export class AppService {
  readonly workspace: Workspace;
  private readonly sessions = new Map<string, Session>();
  private readonly listeners = new Set<(e: AppEvent) => void>();
  private readonly watchers = new Map<string, FSWatcher>();
  /** the hash of each open notebook as this app last read or wrote it */
  private readonly known = new Map<string, string>();

  constructor(private readonly opts: AppServiceOptions) {
    this.workspace = new Workspace(opts.workspace);
  }

  onEvent(listener: (e: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: AppEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** A wire request in, a wire response out; never throws. Both transports call this. */
  async handleRequest(raw: unknown): Promise<Response> {
    const req = Request.safeParse(raw);
    const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
    if (!req.success) {
      const issue = req.error.issues[0];
      return { id, ok: false, error: { code: 'bad_request', message: `request: ${issue.path.join('.') || '(root)'}: ${issue.message}` } };
    }
    try {
      const result = await this.call(req.data.op, req.data.params);
      return { id, ok: true, result };
    } catch (e) {
      if (e instanceof AppFailure) return { id, ok: false, error: { code: e.code, message: e.message } };
      if (e instanceof UserError) return { id, ok: false, error: { code: 'bad_request', message: e.message } };
      return { id, ok: false, error: { code: 'internal', message: (e as Error)?.message ?? String(e) } };
    }
  }

  async call<K extends Op>(op: K, params: unknown): Promise<ResultOf<K>> {
    const handler = this.handlers[op] as unknown as Handler<K>;
    return handler(parseParams(op, params));
  }

  private readonly handlers: { [K in Op]: Handler<K> } = {
    'app.info': () => ({ contractVersion: 1, workspace: this.workspace.root, shell: this.opts.shell, backendHint: process.env.LREF_BACKEND ?? 'auto' }),
    'workspace.tree': () => ({ root: this.workspace.root, entries: this.workspace.tree() }),
    'notebook.open': ({ path }) => {
      requireNotebook(path);
      const { text, version } = this.workspace.readText(path);
      const notebook = parseNotebook(text, path);
      this.known.set(path, version.hash);
      this.watch(path);
      void this.session(path); // start its kernel now, as JupyterLab does, so the first run is quick
      return { path, notebook, version };
    },
    'notebook.save': ({ path, notebook, base, force }) => {
      requireNotebook(path);
      const version = this.workspace.writeText(path, serializeNotebook(notebook, { sortKeys: true }), force ? 'any' : base);
      this.known.set(path, version.hash);
      return { version };
    },
    'notebook.stat': ({ path }) => ({ version: this.workspace.version(path) }),
    'notebook.create': ({ path }) => {
      requireNotebook(path);
      this.workspace.writeText(path, serializeNotebook(newNotebook([newCodeCell('', 'cell-1')]), { sortKeys: true }), 'any', true);
      return { path };
    },
    'notebook.rename': async ({ from, to }) => {
      requireNotebook(from);
      requireNotebook(to);
      this.workspace.rename(from, to);
      await this.close(from);
      return { path: to };
    },
    'notebook.delete': async ({ path }) => {
      requireNotebook(path);
      await this.close(path);
      this.workspace.remove(path);
      return {};
    },
    'kernel.start': async ({ path }) => ({ state: (await this.session(path)).kernel!.state }),
    'kernel.status': ({ path }) => ({ state: this.sessions.get(path)?.kernel?.state ?? (this.sessions.get(path)?.starting ? 'starting' : 'dead') }),
    'kernel.restart': async ({ path }) => {
      const s = await this.session(path);
      this.abortQueue(s, 'the kernel was restarted');
      await s.kernel!.restart();
      return { state: s.kernel!.state };
    },
    'kernel.interrupt': async ({ path }) => {
      const s = this.sessions.get(path);
      if (!s?.kernel) return { outcome: 'idle' as const };
      this.abortQueue(s, 'interrupted');
      return { outcome: await s.kernel.interrupt() };
    },
    'kernel.shutdown': async ({ path }) => {
      await this.close(path);
      return {};
    },
    'cell.execute': ({ path, cells }) => {
      requireNotebook(path);
      this.workspace.resolve(path);
      const s = this.sessionSync(path);
      for (const c of cells) {
        s.queue.push(c);
        this.emit({ type: 'cell.queued', path, cell_id: c.cell_id });
      }
      void this.pump(s);
      return { queued: cells.map((c) => c.cell_id) };
    },
    'runs.read': ({ path }) => {
      const { dir } = this.runRefs([path])[0];
      const read = (f: string) => (existsSync(join(dir, f)) ? parseJsonText(readFileSync(join(dir, f), 'utf8'), join(dir, f)) : null);
      return { path, manifest: read('run.json'), metrics: read('metrics.json') };
    },
    'runs.catalog': () => {
      const { runs, broken } = listRuns(this.workspace.root);
      return {
        runs: runs.map(({ dir, code_version: _c, ...r }) => ({ ...r, path: this.workspace.relative(dir), variants: r.variants.map(({ external: _e, ...v }) => v) })),
        broken: broken.map((b) => ({ path: this.workspace.relative(b.dir), error: b.error })),
      };
    },
    'runs.diff': ({ a, b }) => {
      const [ra, rb] = this.runRefs([a, b]);
      return diffRuns(ra.dir, rb.dir) as unknown as Record<string, unknown>;
    },
    'runs.selection': ({ path }) => {
      const file = join(this.runRefs([path])[0].dir, 'selection.jsonl');
      if (!existsSync(file)) throw new AppFailure('not_found', `${path}: no selection.jsonl (a run without stage 1)`);
      return { records: readJsonl(file, SelectionRecord).map(({ ms_target: _t, ...rest }) => rest) };
    },
    'decisions.load': ({ runs }) => toWire(loadDecisions(this.runRefs(runs))),
    'decisions.pair': ({ runs, pair_id }) => pairDetail(this.runRefs(runs), pair_id),
    'review.list': ({ run }) => ({ marks: readReview(this.runRefs([run])[0].dir).marks }),
    'review.mark': ({ run, pair_id, label, note, clear }) => ({
      marks: setMark(this.runRefs([run])[0].dir, pair_id, clear ? null : { ...(label ? { label } : {}), ...(note ? { note } : {}) }).marks,
    }),
    'review.export': ({ run }) => {
      const out = exportReview(this.runRefs([run])[0].dir);
      return { ...out, correctedGold: this.workspace.relative(out.correctedGold), preferences: this.workspace.relative(out.preferences) };
    },
    'slices.list': () => ({ slices: this.readSlices() }),
    'slices.save': (slice) => this.writeSlices([...this.readSlices().filter((x) => x.name !== slice.name), slice]),
    'slices.delete': ({ name }) => this.writeSlices(this.readSlices().filter((x) => x.name !== name)),
    'template.read': ({ path }) => {
      requireTemplate(path);
      const { text, version } = this.workspace.readText(path);
      return { path, text, version };
    },
    'template.save': ({ path, text, base, force }) => {
      requireTemplate(path);
      return { version: this.workspace.writeText(path, text, force ? 'any' : base) };
    },
    'template.check': ({ text }) => checkTemplate(text),
    'template.builtin': ({ id }) => {
      const { source: _s, ...template } = loadTemplate(id);
      return { text: JSON.stringify(template, null, 2) + '\n' };
    },
    'prompts.compare': ({ templates, pairs, steps, seed }) => {
      const parsed = templates.map((t, i) => {
        const check = checkTemplate(t);
        if (!check.ok) throw new AppFailure('bad_request', `template ${i + 1}: ${check.error}`);
        return JSON.parse(t) as unknown;
      });
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
      const out = `prompt-runs/${stamp}-${(parsed as { id?: string }[]).map((t) => t.id ?? 'template').join('-vs-').replace(/[^\w.-]+/g, '_')}`.slice(0, 200);
      const cell_id = `compare-${stamp}`;
      // The comparison trains models: it runs in a kernel process of its own, never in this one.
      const code = [
        `const __bar = display.progress(${steps * parsed.length}, 'training one model per template');`,
        `let __done = 0;`,
        `const __r = await comparePrompts({ templates: ${JSON.stringify(parsed)}, out: ${JSON.stringify(this.workspace.resolve(out))}, pairs: ${pairs}, steps: ${steps}, seed: ${seed},`,
        `  onStep: (t, step, steps, loss) => __bar.update(++__done, { template: t, loss: loss.toFixed(3) }) });`,
        `__bar.done();`,
        `display.table(__r.metrics.map((m) => ({ template: m.template, macro_f1: +(100 * m.macro_f1).toFixed(1), accuracy: +(100 * m.accuracy).toFixed(1), optimistic_error_share: +(100 * m.optimistic_error_share).toFixed(1) })), { title: 'test split, percent (backend ' + __r.backend + ')' });`,
      ].join('\n');
      mkdirSync(dirname(this.workspace.resolve(PROMPT_SESSION)), { recursive: true });
      const s = this.sessionSync(PROMPT_SESSION);
      s.queue.push({ cell_id, code });
      this.emit({ type: 'cell.queued', path: PROMPT_SESSION, cell_id });
      void this.pump(s);
      return { path: PROMPT_SESSION, cell_id, out };
    },
    'editor.types': () => ({ files: editorTypes(EDITOR_TYPES_FILE) }),
  };

  private readSlices(): Slice[] {
    const file = this.workspace.resolve(SLICES_FILE);
    if (!existsSync(file)) return [];
    const parsed = SlicesFile.safeParse(parseJsonText(readFileSync(file, 'utf8'), file));
    if (!parsed.success) throw new AppFailure('bad_request', `${SLICES_FILE}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
    return parsed.data.slices;
  }

  private writeSlices(slices: Slice[]): { slices: Slice[] } {
    this.workspace.writeText(SLICES_FILE, JSON.stringify({ version: 1, slices }, null, 2) + '\n', 'any');
    return { slices };
  }

  private runRefs(paths: readonly string[]): RunRef[] {
    return paths.map((p) => {
      const dir = this.workspace.resolve(p);
      if (!existsSync(join(dir, 'run.json'))) throw new AppFailure('not_found', `${p}: not a run folder (no run.json)`);
      return { dir, name: p };
    });
  }

  private sessionSync(path: string): Session {
    let s = this.sessions.get(path);
    if (!s) {
      s = { path, queue: [] };
      this.sessions.set(path, s);
    }
    return s;
  }

  /** The notebook's session with a started kernel (cwd: the notebook's folder). */
  private async session(path: string): Promise<Session> {
    const s = this.sessionSync(path);
    if (s.kernel) return s;
    if (!s.starting) {
      const cwd = dirname(this.workspace.resolve(path));
      this.emit({ type: 'kernel.state', path, state: 'starting' });
      const start = this.opts.startKernel ?? ((o) => Kernel.start(o));
      s.starting = start({
        cwd,
        interruptGraceMs: this.opts.interruptGraceMs,
        onState: (state, reason) => this.emit({ type: 'kernel.state', path, state, ...(reason ? { reason } : {}) }),
      });
      s.starting.then(
        (k) => {
          s.kernel = k;
          s.starting = undefined;
          this.emit({ type: 'kernel.state', path, state: k.state });
        },
        (e) => {
          s.starting = undefined;
          this.emit({ type: 'kernel.state', path, state: 'dead', reason: (e as Error).message });
        },
      );
    }
    await s.starting;
    return s;
  }

  /** Runs the queue one cell at a time; a failing cell aborts the cells queued after it. */
  private async pump(s: Session): Promise<void> {
    if (s.running) return;
    const next = s.queue.shift();
    if (!next) return;
    s.running = next.cell_id;
    try {
      const k = (await this.session(s.path)).kernel!;
      const outcome = await k.execute(next.code, {
        cell_id: next.cell_id,
        onMessage: (message) => this.emit({ type: 'kernel.message', path: s.path, cell_id: next.cell_id, message }),
      });
      if (outcome.status === 'error') this.abortQueue(s, `cell ${next.cell_id} failed`);
    } catch (e) {
      this.emit({ type: 'kernel.state', path: s.path, state: 'dead', reason: (e as Error).message });
      this.abortQueue(s, (e as Error).message);
    } finally {
      s.running = undefined;
    }
    void this.pump(s);
  }

  private abortQueue(s: Session, reason: string): void {
    for (const c of s.queue.splice(0)) this.emit({ type: 'cell.aborted', path: s.path, cell_id: c.cell_id, reason });
  }

  /**
   * Watches an open notebook so a change behind the app's back is shown, never overwritten. The
   * folder is watched, not the file: an atomic save replaces the file, and a file watch would stay
   * on the replaced inode.
   */
  private watch(path: string): void {
    if (this.watchers.has(path)) return;
    const abs = this.workspace.resolve(path);
    const name = basename(abs);
    let timer: NodeJS.Timeout | undefined;
    try {
      const w = watch(dirname(abs), (_event, file) => {
        if (file !== null && file !== name) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (!this.known.has(path)) return;
          const version = this.workspace.version(path);
          if (version?.hash === this.known.get(path)) return;
          this.emit({ type: 'file.changed', path, version });
        }, 150);
      });
      w.on('error', () => this.watchers.delete(path));
      this.watchers.set(path, w);
    } catch {
      // Watching is a convenience; a save still refuses to overwrite a changed file.
    }
  }

  private async close(path: string, waitForStart = false): Promise<void> {
    this.watchers.get(path)?.close();
    this.watchers.delete(path);
    this.known.delete(path);
    const s = this.sessions.get(path);
    this.sessions.delete(path);
    if (!s) return;
    this.abortQueue(s, 'the notebook was closed');
    if (s.kernel) await s.kernel.shutdown();
    else {
      // A kernel still starting is shut down once up; a rename or delete need not wait for that.
      const stopped = s.starting?.then((k) => k.shutdown(), () => undefined);
      if (waitForStart) await stopped;
    }
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((p) => this.close(p, true)));
    for (const w of this.watchers.values()) w.close();
    this.listeners.clear();
  }
}

/** The kernel session prompt comparisons run in (a path no notebook can have). */
const PROMPT_SESSION = 'prompt-runs/comparisons.session';

function requireTemplate(path: string): void {
  if (!path.endsWith('.json')) throw new AppFailure('bad_request', `${path}: a prompt template is a .json file`);
}

/** A template's text checked as the pipeline will read it, and its placeholders named. */
function checkTemplate(text: string): { ok: boolean; error?: string; unknownPlaceholders: string[]; placeholders: string[] } {
  const used = [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))];
  const unknownPlaceholders = used.filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
  try {
    parseTemplate(JSON.parse(text), 'template');
    return { ok: true, unknownPlaceholders, placeholders: used };
  } catch (e) {
    return { ok: false, error: (e as Error).message, unknownPlaceholders, placeholders: used };
  }
}

function requireNotebook(path: string): void {
  if (!path.endsWith('.ipynb')) throw new AppFailure('bad_request', `${path}: the app opens .ipynb notebooks only`);
}
