import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export type QatBackend = 'wasm' | 'cpu';
let ready: Promise<void> | undefined;
let chosen: QatBackend | undefined;

/**
 * The tfjs backend for LLM distillation. 'wasm' (XNNPACK) is 5-20x faster than 'cpu' on these shapes (measured
 * with bench/llm-qat.ts); 'cpu' is kept for comparison. One backend per process.
 */
export function useQatBackend(name: QatBackend = 'wasm'): Promise<void> {
  if (chosen !== undefined && chosen !== name) throw new Error(`tfjs backend already set to ${chosen}`);
  chosen = name;
  ready ??= (async () => {
    tf.env().set('PROD', true);
    await tf.setBackend(name);
    await tf.ready();
  })();
  return ready;
}
