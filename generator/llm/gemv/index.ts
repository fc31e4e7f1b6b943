export * from './config';
export * from './golden';
export * from './pack';
export { gemvModule } from './rtl';
export * from './random';
export * from './sparse';
