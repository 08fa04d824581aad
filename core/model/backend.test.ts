import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';

describe('initBackend', () => {
  afterEach(() => {
    delete process.env.LREF_BACKEND;
  });

  it('honours an explicit preference and returns the running backend', async () => {
    expect(await initBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('reads LREF_BACKEND when no argument is given', async () => {
    process.env.LREF_BACKEND = 'cpu';
    expect(await initBackend()).toBe('cpu');
  });

  it('fails loudly for a backend that cannot run', async () => {
    await expect(initBackend('no-such-backend')).rejects.toThrow(/backend 'no-such-backend' is not available/);
  });

  it('without a preference picks the best rung available here', async () => {
    const name = await initBackend();
    // tfjs-node is optional (usually absent here); when absent, wasm is the best that loads
    // unless something registered the native backend.
    const expected = tf.findBackendFactory('tensorflow')
      ? 'tensorflow'
      : tf.findBackendFactory('lref-native')
        ? 'lref-native'
        : 'wasm';
    expect(name).toBe(expected);
  });
});
