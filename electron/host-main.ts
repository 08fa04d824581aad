import { parseArgs } from 'node:util';
import { AppService } from '../core/app/service.ts';
import { serveHost } from './host.ts';

// The script main forks (with plain Node and tsx): core for one workspace, served over the fork channel.
const { values } = parseArgs({ options: { workspace: { type: 'string' } }, strict: true });
if (!process.send) throw new Error('electron/host-main.ts is started by the Electron main process (it needs the fork IPC channel)');
const service = new AppService({ workspace: values.workspace ?? process.cwd(), shell: 'electron' });
serveHost(
  service,
  {
    send: (m) => {
      if (process.connected) process.send!(m);
    },
    onMessage: (l) => process.on('message', l),
    onDisconnect: (l) => process.on('disconnect', l),
  },
  () => process.exit(0),
);
