// Indicators: what the operations data already tells (open incidents by category and agency,
// open alerts by rule) and the citizen-report KPIs per agency and per ward over a chosen period
// (GET /api/v1/reports/kpis), with their definitions.
import { t, fmtNum } from '../lib/i18n';
import { lastEventAt } from '../lib/live';
import { categoryLabel } from '../lib/labels';
import { Widget } from '../components/Fresh';
import { openIncidents, incidentsLoadedAt, useIncidentFeed } from '../stores/incidents';
import { openAlerts, alertsLoadedAt, useAlertFeed } from '../stores/alerts';
import { useEffect, useState } from 'preact/hooks';
import { can } from '../lib/session';
import { lang } from '../lib/i18n';
import { kpis, type Kpis, type KpiRow } from '../lib/reports';
import { loadWards } from '../map/wards';
import { ErrorLine } from '../components/ErrorLine';

/** yyyy-mm-dd of a day in Huế (UTC+7), `days` before today. */
function day(daysBack = 0): string {
  return new Date(Date.now() + 7 * 3600_000 - daysBack * 86400_000).toISOString().slice(0, 10);
}
const pct = (v: number | null) => (v == null ? '—' : `${fmtNum(v, 1)} %`);

function KpiTable({ data, label, id }: { data: Kpis; label: (k: string) => string; id: string }) {
  const rows = [...data.groups].sort((a, b) => b.received - a.received);
  const chart = rows.filter((r) => r.on_time_pct != null).slice(0, 15);
  const cells = (r: KpiRow) => (
    <>
      <td class="num">{fmtNum(r.received, 0)}</td>
      <td class="num">{fmtNum(r.resolved, 0)}</td>
      <td class="num">{fmtNum(r.open_overdue, 0)}</td>
      <td class="num">{pct(r.on_time_pct)}</td>
      <td class="num">{fmtNum(r.median_hours_to_resolve, 1)}</td>
      <td class="num">{pct(r.satisfaction_pct)}</td>
      <td class="num">{pct(r.reopen_rate_pct)}</td>
    </>
  );
  if (rows.length === 0) return <p class="hint">{t('ind.noData')}</p>;
  return (
    <>
      <div class="table-wrap">
        <table class="kpi-table" data-testid={id}>
          <thead>
            <tr>
              <th scope="col">{t('ind.key')}</th>
              <th scope="col">{t('ind.received')}</th>
              <th scope="col">{t('ind.resolved')}</th>
              <th scope="col">{t('ind.overdueOpen')}</th>
              <th scope="col">{t('ind.onTime')}</th>
              <th scope="col">{t('ind.median')}</th>
              <th scope="col">{t('ind.satisfaction')}</th>
              <th scope="col">{t('ind.reopen')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{label(r.key ?? '') || '—'}</th>
                {cells(r)}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{t('ind.total')}</th>
              {cells(data.total)}
            </tr>
          </tfoot>
        </table>
      </div>
      {chart.length > 0 && (
        <>
          <h3>{t('ind.chartOnTime')}</h3>
          <ol class="bars" aria-label={t('ind.chartOnTime')}>
            {chart.map((r) => (
              <li key={r.key}>
                <span class="bar-label">{label(r.key ?? '') || '—'}</span>
                <span class="bar" style={{ width: `${r.on_time_pct}%`, background: (r.on_time_pct ?? 0) >= 90 ? '#16a34a' : (r.on_time_pct ?? 0) >= 70 ? '#f59e0b' : '#dc2626' }} />
                <span class="bar-value">{pct(r.on_time_pct)}</span>
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}

/** Citizen-report indicators per agency and per ward over a period (days in Huế time). */
function ReportKpis() {
  const [from, setFrom] = useState(day(29));
  const [to, setTo] = useState(day(0));
  const [byAgency, setByAgency] = useState<Kpis | null>(null);
  const [byWard, setByWard] = useState<Kpis | null>(null);
  const [at, setAt] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [wardNames, setWardNames] = useState<Map<string, [string, string]>>(new Map());
  useEffect(() => void loadWards().then((w) => setWardNames(new Map(w.features.map((f) => [f.properties.code, [f.properties.name, f.properties.nameEn]])))).catch(() => undefined), []);
  useEffect(() => {
    if (!from || !to) return;
    const q = { from: `${from}T00:00:00+07:00`, to: new Date(Date.parse(`${to}T00:00:00+07:00`) + 86400_000).toISOString() };
    setError(null);
    Promise.all([kpis({ ...q, group_by: 'agency' }), kpis({ ...q, group_by: 'ward' })]).then(([a, w]) => {
      setByAgency(a);
      setByWard(w);
      setAt(Date.now());
    }, setError);
  }, [from, to, lastEventAt.value.reports ? Math.floor(lastEventAt.value.reports / 30000) : 0]);
  const ward = (code: string) => {
    const n = wardNames.get(code);
    return n ? (lang.value === 'en' ? n[1] : n[0]) : code;
  };
  return (
    <section class="report-kpis" aria-labelledby="kpi-h">
      <h2 id="kpi-h">{t('ind.reportKpis')}</h2>
      <form class="row period" onSubmit={(e) => e.preventDefault()} aria-label={t('ind.period')}>
        <label>
          {t('ind.from')}
          <input type="date" value={from} max={to} onChange={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label>
          {t('ind.to')}
          <input type="date" value={to} min={from} onChange={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        </label>
      </form>
      <ErrorLine error={error} />
      <div class="grid-2">
        <Widget title={t('ind.byAgency')} at={at} id="ind-reports-agency">
          {byAgency ? <KpiTable data={byAgency} label={(k) => k} id="kpi-agency" /> : <p class="hint">{t('loading')}</p>}
        </Widget>
        <Widget title={t('ind.byWard')} at={at} id="ind-reports-ward">
          {byWard ? <KpiTable data={byWard} label={ward} id="kpi-ward" /> : <p class="hint">{t('loading')}</p>}
        </Widget>
      </div>
      <details class="definitions" open>
        <summary>{t('ind.definitions')}</summary>
        <ul>
          {(['received', 'resolved', 'onTime', 'median', 'satisfaction', 'reopen'] as const).map((k) => (
            <li key={k}>{t(`ind.def.${k}`)}</li>
          ))}
        </ul>
      </details>
    </section>
  );
}

function countBy<T>(xs: T[], key: (x: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

function Bars({ rows, label }: { rows: [string, number][]; label: (k: string) => string }) {
  const max = Math.max(1, ...rows.map((r) => r[1]));
  return (
    <ol class="bars">
      {rows.map(([k, n]) => (
        <li key={k}>
          <span class="bar-label">{label(k)}</span>
          <span class="bar" style={{ width: `${(n / max) * 100}%` }} />
          <span class="bar-value">{fmtNum(n, 0)}</span>
        </li>
      ))}
      {rows.length === 0 && <li class="hint">{t('none')}</li>}
    </ol>
  );
}

export function Indicators() {
  useIncidentFeed();
  useAlertFeed();
  const inc = openIncidents.value;
  const atInc = Math.max(incidentsLoadedAt.value, lastEventAt.value.incidents ?? 0);
  const atAl = Math.max(alertsLoadedAt.value, lastEventAt.value.alerts ?? 0);
  return (
    <div class="indicators">
      <h1 class="screen-title">{t('ind.title')}</h1>
      <div class="grid-2">
        <Widget title={t('ind.incidentsByCategory')} at={atInc} id="ind-cat">
          <Bars rows={countBy(inc, (i) => i.category)} label={categoryLabel} />
        </Widget>
        <Widget title={t('ind.incidentsByAgency')} at={atInc} id="ind-agency">
          <Bars rows={countBy(inc, (i) => i.agency ?? '—')} label={(k) => k} />
        </Widget>
        <Widget title={t('ind.alertsByRule')} at={atAl} id="ind-rules">
          <Bars rows={countBy(openAlerts.value, (a) => a.ruleId)} label={(k) => k} />
        </Widget>
      </div>
      {can('reports:read') && <ReportKpis />}
      <p class="hint">{t('ind.sectors')}</p>
    </div>
  );
}
