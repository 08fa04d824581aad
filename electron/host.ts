/**
 * Core for the Electron shell, in a plain-Node child of the main process (see host-client.ts):
 * requests arrive as `{seq, request}` over the fork IPC channel and go back as `{seq, response}`;
 * core's events go out as `{event}`. When main goes away the channel closes and the kernels stop.
 * host-main.ts binds this to the process; tests bind it to fakes.
 */
export interface HostPort {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onDisconnect(listener: () => void): void;
}

export interface HostService {
  handleRequest(raw: unknown): Promise<unknown>;
  onEvent(listener: (event: unknown) => void): () => void;
  dispose(): Promise<void>;
}

export function serveHost(service: HostService, port: HostPort, exit: () => void): void {
  service.onEvent((event) => port.send({ event }));
  port.onMessage((m) => {
    const { seq, request } = (m ?? {}) as { seq?: unknown; request?: unknown };
    if (typeof seq !== 'number') return;
    void service.handleRequest(request).then((response) => port.send({ seq, response }));
  });
  port.onDisconnect(() => void service.dispose().finally(exit));
}
