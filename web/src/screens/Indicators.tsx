// Indicators: what the operations data already tells (open incidents by category and agency,
// open alerts by rule) and the citizen-report KPIs per agency and ward once issue 5's API exists.
import { t, fmtNum } from '../lib/i18n';
import { lastEventAt } from '../lib/live';
import { categoryLabel } from '../lib/labels';
import { Widget } from '../components/Fresh';
import { openIncidents, incidentsLoadedAt, useIncidentFeed } from '../stores/incidents';
import { openAlerts, alertsLoadedAt, useAlertFeed } from '../stores/alerts';

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
        <Widget title={t('ind.reportKpis')} id="ind-reports">
          {/* TODO(issue 5): received, resolved, on-time %, median time to resolve, satisfaction %
              and reopen rate per agency and ward, from the reports KPI API once it exists. */}
          <p class="hint">{t('portal.pending')}</p>
        </Widget>
      </div>
      <p class="hint">{t('ind.sectors')}</p>
    </div>
  );
}
