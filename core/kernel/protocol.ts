import { z } from 'zod';

/**
 * The messages between a kernel process and its host (the CLI's `lref run`, the desktop app's
 * main process, the browser-mode server). Shaped after Jupyter's messaging so outputs map 1:1 onto
 * nbformat outputs; every message that belongs to an execution carries its `msg_id`.
 *
 * host → kernel: execute_request, interrupt, shutdown
 * kernel → host: status, stream, display_data, update_display_data, execute_result, error
 * An execution is over when the kernel sends `status: idle` with that execution's msg_id.
 */

/** A MIME bundle: MIME type → data (string for text/*, base64 for images, JSON value for +json types). */
export const MimeBundle = z.record(z.string(), z.unknown());
export type MimeBundle = z.infer<typeof MimeBundle>;

export const ExecuteRequest = z.object({
  type: z.literal('execute_request'),
  msg_id: z.string().min(1),
  code: z.string(),
  /** how traces name the cell, e.g. "cell 3" */
  cell_name: z.string().optional(),
  /** nbformat cell id, passed through for the UI */
  cell_id: z.string().optional(),
});
export type ExecuteRequest = z.infer<typeof ExecuteRequest>;

/** Stop the running cell. The host also signals the process (SIGINT) since a busy cell never reads messages. */
export const Interrupt = z.object({ type: z.literal('interrupt') });
export const Shutdown = z.object({ type: z.literal('shutdown') });

export const HostMessage = z.discriminatedUnion('type', [ExecuteRequest, Interrupt, Shutdown]);
export type HostMessage = z.infer<typeof HostMessage>;

export const KernelState = z.enum(['starting', 'idle', 'busy', 'restarting', 'dead']);
export type KernelState = z.infer<typeof KernelState>;

export const Status = z.object({
  type: z.literal('status'),
  state: KernelState,
  msg_id: z.string().optional(),
  /** set on `busy` for an execution: the count the cell shows as In [n] */
  execution_count: z.number().int().optional(),
});

export const Stream = z.object({
  type: z.literal('stream'),
  msg_id: z.string(),
  name: z.enum(['stdout', 'stderr']),
  text: z.string(),
});

export const DisplayData = z.object({
  type: z.literal('display_data'),
  msg_id: z.string(),
  data: MimeBundle,
  metadata: z.record(z.string(), z.unknown()),
  /** set when the output may later be replaced by update_display_data (progress bars) */
  display_id: z.string().optional(),
});

export const UpdateDisplayData = z.object({
  type: z.literal('update_display_data'),
  msg_id: z.string(),
  data: MimeBundle,
  metadata: z.record(z.string(), z.unknown()),
  display_id: z.string(),
});

export const ExecuteResult = z.object({
  type: z.literal('execute_result'),
  msg_id: z.string(),
  execution_count: z.number().int(),
  data: MimeBundle,
  metadata: z.record(z.string(), z.unknown()),
});

export const ErrorMessage = z.object({
  type: z.literal('error'),
  msg_id: z.string(),
  ename: z.string(),
  evalue: z.string(),
  traceback: z.array(z.string()),
  /** 1-based line in the cell's source where it was raised, when the trace reaches the cell */
  line: z.number().int().optional(),
});

export const KernelMessage = z.discriminatedUnion('type', [
  Status,
  Stream,
  DisplayData,
  UpdateDisplayData,
  ExecuteResult,
  ErrorMessage,
]);
export type KernelMessage = z.infer<typeof KernelMessage>;
export type StreamMessage = z.infer<typeof Stream>;
export type ErrorMessage = z.infer<typeof ErrorMessage>;

/** Every message either side may send; the UI's transport carries these unchanged. */
export const AnyMessage = z.union([HostMessage, KernelMessage]);
export type AnyMessage = z.infer<typeof AnyMessage>;
