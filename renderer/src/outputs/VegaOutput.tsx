import { useEffect, useRef, useState } from 'react';
import embed from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';

/** Vega-Lite charts, bundled (nothing fetched) and run by the interpreter, so the page needs no eval. */
export function VegaOutput({ spec }: { spec: Record<string, unknown> }) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!ref.current) return;
    let finalize: (() => void) | undefined;
    embed(ref.current, spec as never, { actions: { export: true, source: false, compiled: false, editor: false }, ast: true, expr: expressionInterpreter, renderer: 'svg' })
      .then((r) => (finalize = () => r.finalize()))
      .catch((e: Error) => setError(e.message));
    return () => finalize?.();
  }, [spec]);
  return error ? <pre className="output-error">Vega-Lite: {error}</pre> : <div className="vega-output" ref={ref} />;
}
