export * from './layout';
export * from './image';
export { llmDeviceModule } from './sequencer';
export { llmDeviceTop } from './top';
export { deviceEngineParams, deviceHwParams, DEVICE_PREFILL_BLOCK } from './engine-params';
