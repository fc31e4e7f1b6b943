export * from './expr';
export * from './module';
export * from './interface';
export { checkDesign, checkModule, HdlCheckError, collectModules } from './checks';
export { printDesign, printModule, type PrintedDesign, type VerilogFile } from './verilog';
export { evalExpr, toSigned } from './eval';
