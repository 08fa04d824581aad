import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { UserError } from '../util/errors.ts';

/**
 * The backend ladder: the fastest backend that loads on this machine, unless the caller or
 * LREF_BACKEND names one. Every run prints the name returned here, because a loss trace is only
 * comparable with one from the same backend.
 *
 * Rungs (first that loads wins):
 *   tensorflow  via @tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node (optional packages)
 *   lref-native the project's native-kernel backend (core/model/native-backend.ts), when its addon is built
 *   wasm        @tensorflow/tfjs-backend-wasm (single thread here; ~15x faster than cpu for training)
 *   cpu         pure JS, always there, slowest
 */
export const BACKEND_LADDER = ['tensorflow', 'lref-native', 'wasm', 'cpu'] as const;

/** Loads the packages a backend needs; true when it is then registered with tfjs-core. */
async function load(name: string): Promise<boolean> {
  if (name === 'tensorflow') {
    // Names in variables so bundlers and tsc do not insist on optional packages being installed.
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(/* @vite-ignore */ pkg);
        if (tf.findBackendFactory('tensorflow')) return true;
      } catch {
        // Not installed or its native library failed to load: try the next rung.
      }
    }
    return false;
  }
  if (name === 'lref-native') {
    try {
      // Registers the backend on import when the addon in native/ is built; registers nothing otherwise.
      await import('./native-backend.ts');
    } catch {
      return false;
    }
  }
  if (name === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
    } catch {
      return false;
    }
  }
  return tf.findBackendFactory(name) !== null && tf.findBackendFactory(name) !== undefined;
}

async function trySet(name: string): Promise<boolean> {
  if (!(await load(name))) return false;
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * Selects and initialises a backend; returns the name of the one actually running.
 * `preference` (or env LREF_BACKEND) pins one backend and fails loudly if it cannot run, so a
 * benchmark never silently measures the wrong thing.
 */
export async function initBackend(preference?: string): Promise<string> {
  const pinned = preference ?? process.env.LREF_BACKEND;
  if (pinned) {
    if (!(await trySet(pinned))) {
      throw new UserError(`backend '${pinned}' is not available here (ladder: ${BACKEND_LADDER.join(' → ')})`);
    }
    await tf.ready();
    return tf.getBackend();
  }
  for (const name of BACKEND_LADDER) {
    if (await trySet(name)) {
      await tf.ready();
      return tf.getBackend();
    }
  }
  throw new Error('no TF.js backend could be initialised (even cpu failed)');
}
