export * from './hw-config';
export * from './schedule';
export { llmEngineModule } from './rtl';
export * from './pack';
export * from './synth';
