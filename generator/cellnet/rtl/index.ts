export * from './plan';
export * from './weights';
export { cellnetModule } from './top';
export { convModule, TREE_LEVELS_PER_STAGE } from './conv';
export { poolModule } from './pool';
export { denseModule } from './dense';
export { decideModule } from './decide';
export { triggerModule } from './trigger';
export { cellnetDesign, CELLNET_RTL_DEFAULTS, type CellnetDesign } from './design';
