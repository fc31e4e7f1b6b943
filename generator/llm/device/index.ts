export * from './layout';
export * from './image';
export { llmDeviceModule } from './sequencer';
export { llmDeviceTop } from './top';
export { deviceEngineParams } from './engine-params';
