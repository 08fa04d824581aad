import { createRoot } from 'react-dom/client';
import { App } from './components/App.tsx';
import type { PreloadApi } from './transport/transport.ts';
import { ipcTransport } from './transport/ipc.ts';
import { wsTransport } from './transport/ws.ts';
import { init, setTransport } from './usecases.ts';
import './styles.css';

declare global {
  interface Window {
    lref?: PreloadApi;
  }
}

// Electron's preload exposes window.lref; in a browser the page talks to core over its WebSocket.
setTransport(window.lref ? ipcTransport(window.lref) : wsTransport());
createRoot(document.getElementById('root')!).render(<App />);
void init().catch((e) => console.error('lref: start-up failed', e));
