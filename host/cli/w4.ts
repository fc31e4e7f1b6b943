/** Mixed precision on the command line: `--w4 SPEC` and the 4-bit matrices a `--quant` file carries. */
import { expandW4Spec, type EngineParams } from '../../generator/llm/model-spec';
import { quantModelCodeParams } from '../../generator/llm/quant/qmodel-file';

export const W4_HELP = 'mixed precision: linear matrices at 4 bits in a W2 model, comma-separated <layer>.<mat> with * for either (e.g. "0.*,*.wq"; matrices wq wk wv wo w1 w2 w3)';

/**
 * The w4Matrices of an engine config: `--w4` when given (a --quant file with other 4-bit matrices is then refused when
 * loaded, naming both lists), otherwise the --quant file's own, so users need not repeat them.
 */
export function w4ParamsOf(nLayers: number, spec?: string, quant?: string): Pick<EngineParams, 'w4Matrices'> | Record<string, never> {
  if (spec !== undefined) return { w4Matrices: expandW4Spec(spec, nLayers) };
  if (quant !== undefined) return quantModelCodeParams(quant);
  return {};
}
