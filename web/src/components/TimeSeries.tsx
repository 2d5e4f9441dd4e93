// A time-series chart of one attribute from the NGSI-LD temporal API, drawn with uPlot (loaded
// on first use). Short ranges show raw points; longer ones the server's rollups (avg per bucket).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs } from '../lib/api';
import { t, fmtShort, fmtNum, lang } from '../lib/i18n';
import type { Key } from '../lib/strings';
import { ErrorLine } from './ErrorLine';
import { attrLabel } from '../lib/labels';

const RANGES = [
  { key: 'chart.1h', ms: 3600_000, aggr: null },
  { key: 'chart.6h', ms: 6 * 3600_000, aggr: 'PT5M' },
  { key: 'chart.24h', ms: 24 * 3600_000, aggr: 'PT15M' },
  { key: 'chart.7d', ms: 7 * 24 * 3600_000, aggr: 'PT1H' },
] as const;

type Temporal = Record<string, unknown>;

/** Hours and minutes within a day; day/month beyond. */
function tickLabel(ms: number, ticks: number[]): string {
  const span = (ticks[ticks.length - 1] ?? 0) - (ticks[0] ?? 0);
  const s = fmtShort(ms);
  return span < 86400 ? s.slice(0, 5) : s.slice(6);
}

/** [times (s), values] from a temporal answer (temporalValues or aggregated avg). */
export function seriesOf(doc: Temporal, attr: string): [number[], number[]] {
  const key = Object.keys(doc).find((k) => k === attr || k.endsWith(`/${attr}`));
  const a = key ? (doc[key] as Record<string, unknown> | Record<string, unknown>[]) : null;
  const inst = (Array.isArray(a) ? a[0] : a) as Record<string, unknown> | undefined;
  const xs: number[] = [];
  const ys: number[] = [];
  const rows = (inst?.values ?? inst?.avg ?? []) as unknown[];
  if (Array.isArray(rows)) {
    for (const r of rows) {
      if (!Array.isArray(r)) continue;
      const [v, at] = r as [unknown, unknown];
      const ms = Date.parse(String(at));
      if (typeof v === 'number' && Number.isFinite(ms)) {
        xs.push(ms / 1000);
        ys.push(v);
      }
    }
  }
  const order = xs.map((_, i) => i).sort((i, j) => xs[i]! - xs[j]!);
  return [order.map((i) => xs[i]!), order.map((i) => ys[i]!)];
}

interface Plot {
  setData(d: [number[], number[]]): void;
  destroy(): void;
}

export function TimeSeries({ entityId, attrs, liveAt, liveValues }: { entityId: string; attrs: string[]; liveAt?: number; liveValues?: Record<string, unknown> }) {
  const [attr, setAttr] = useState(attrs[0] ?? '');
  const [range, setRange] = useState(0);
  const [data, setData] = useState<[number[], number[]] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<Plot | null>(null);
  const from = useRef(0);

  useEffect(() => {
    if (!attrs.includes(attr)) setAttr(attrs[0] ?? '');
  }, [attrs.join(',')]);

  useEffect(() => {
    if (!attr) return;
    const ctrl = new AbortController();
    const r = RANGES[range]!;
    from.current = Date.now() - r.ms;
    const params: Record<string, string> = {
      attrs: attr,
      timerel: 'after',
      timeAt: new Date(from.current).toISOString(),
    };
    if (r.aggr) Object.assign(params, { aggrMethods: 'avg', aggrPeriodDuration: r.aggr });
    else params.options = 'temporalValues';
    setError(null);
    api<Temporal>(`/ngsi-ld/v1/temporal/entities/${encodeURIComponent(entityId)}${qs(params)}`, { signal: ctrl.signal }).then(
      (doc) => setData(seriesOf(doc, attr)),
      (e: Error) => e.name !== 'AbortError' && setError(e),
    );
    return () => ctrl.abort();
  }, [entityId, attr, range]);

  // Live readings extend the raw (1 h) chart as they arrive.
  useEffect(() => {
    const v = liveValues?.[attr];
    if (!liveAt || typeof v !== 'number' || !data || RANGES[range]!.aggr) return;
    const x = liveAt / 1000;
    if (data[0].length && x <= data[0][data[0].length - 1]!) return;
    setData([[...data[0], x], [...data[1], v]]);
  }, [liveAt]);

  // The plot: created once per attribute/range/language, fed new data in place.
  useEffect(() => {
    if (!data || !box.current || data[0].length === 0) return;
    if (plot.current) return plot.current.setData(data);
    let alive = true;
    void Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([{ default: UPlot }]) => {
      if (!alive || !box.current || plot.current) return;
      box.current.textContent = '';
      plot.current = new UPlot(
        {
          width: box.current.clientWidth || 320,
          height: 180,
          legend: { show: false },
          scales: { x: { time: true, range: (_u, _min, max) => [from.current / 1000, Math.max(Date.now() / 1000, max)] } },
          axes: [
            { values: (_u, ticks) => ticks.map((s) => tickLabel(s * 1000, ticks)), stroke: 'currentColor', space: 80 },
            { values: (_u, ticks) => ticks.map((v) => fmtNum(v, 2)), stroke: 'currentColor', size: 56 },
          ],
          series: [{}, { label: attr, stroke: '#2563eb', width: 2, fill: 'rgba(37,99,235,0.12)', points: { show: true, size: 4 } }],
        },
        data,
        box.current,
      );
    });
    return () => {
      alive = false;
    };
  }, [data, lang.value]);
  useEffect(
    () => () => {
      plot.current?.destroy();
      plot.current = null;
    },
    [entityId, attr, range, lang.value],
  );

  return (
    <div class="timeseries">
      <div class="ts-controls">
        <label>
          {t('chart.attr')}
          <select value={attr} onChange={(e) => setAttr((e.currentTarget as HTMLSelectElement).value)}>
            {attrs.map((a) => (
              <option value={a} key={a}>
                {attrLabel(a)}
              </option>
            ))}
          </select>
        </label>
        <fieldset class="ranges">
          <legend>{t('chart.range')}</legend>
          {RANGES.map((r, i) => (
            <button type="button" key={r.key} aria-pressed={range === i} onClick={() => setRange(i)}>
              {t(r.key as Key)}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorLine error={error} />
      <div ref={box} class="ts-plot" role="img" aria-label={t('chart.title', { attr })}>
        {data && data[0].length === 0 && <p class="hint">{t('chart.empty')}</p>}
      </div>
    </div>
  );
}
