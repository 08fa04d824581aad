/** The IPC channels between preload and main: one for requests (invoke), one for core's events. */
export const CALL_CHANNEL = 'lref:call';
export const EVENT_CHANNEL = 'lref:event';
