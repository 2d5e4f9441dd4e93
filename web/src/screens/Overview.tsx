// Overall situation (video wall and leaders): key figures, the city map, air quality by ward,
// river levels against the alarm levels, the latest events.
import { useEffect } from 'preact/hooks';
import { t, fmtNum, fmtTime, lang } from '../lib/i18n';
import type { Key } from '../lib/strings';
import { lastEventAt } from '../lib/live';
import { Widget } from '../components/Fresh';
import { CityMap } from '../map/CityMap';
import { aqiColor, aqiLabel, FLOOD_COLORS } from '../map/colors';
import { loadWards, type Wards } from '../map/wards';
import { openAlerts, alertsLoadedAt, SEVERITIES, useAlertFeed } from '../stores/alerts';
import { openIncidents, incidentsLoadedAt, isOverdue, useIncidentFeed } from '../stores/incidents';
import { sensors, sensorsVersion, sensorsLoadedAt, numberAttr, useSensorFeed } from '../stores/sensors';
import { events } from '../stores/events';
import { reportsToday, reportsTodayAt, useReportsToday } from '../stores/reports';
import { statusLabel } from '../lib/reports';
import { can } from '../lib/session';
import { useState } from 'preact/hooks';

/** Alarm levels of the Hương river (data/indices/flood_stations.json: I 1.0 m, II 2.0 m, III 3.5 m). */
const ALARMS = [1.0, 2.0, 3.5];
const SENSOR_SILENCE = 120_000;

const maxAt = (...xs: (number | undefined)[]) => Math.max(0, ...xs.map((x) => x ?? 0));

function KeyFigures() {
  const alerts = openAlerts.value;
  const incidents = openIncidents.value;
  const at = maxAt(alertsLoadedAt.value, lastEventAt.value.alerts);
  const atInc = maxAt(incidentsLoadedAt.value, lastEventAt.value.incidents);
  return (
    <div class="figures">
      <Widget title={t('ov.alerts')} at={at} id="fig-alerts" class="figure">
        <p class="big" data-testid="alerts-open">
          {fmtNum(alerts.length, 0)}
        </p>
        <ul class="sev-list" aria-label={t('ov.bySeverity')}>
          {SEVERITIES.slice(0, 4).map((s) => (
            <li key={s} class={`sev sev-${s}`}>
              <span>{t(`sev.${s}` as Key)}</span> <b>{fmtNum(alerts.filter((a) => a.severity === s).length, 0)}</b>
            </li>
          ))}
        </ul>
      </Widget>
      <Widget title={t('ov.incidents')} at={atInc} id="fig-incidents" class="figure">
        <p class="big">{fmtNum(incidents.length, 0)}</p>
      </Widget>
      <Widget title={t('ov.overdue')} at={atInc} id="fig-overdue" class="figure">
        <p class={`big ${incidents.some(isOverdue) ? 'warn' : ''}`}>{fmtNum(incidents.filter(isOverdue).length, 0)}</p>
      </Widget>
      <ReportsToday />
    </div>
  );
}

/** Citizen reports received today (since 00:00 in Huế) and the on-time rate of those, from the
 *  KPI API (group_by=none); refreshed by the `reports` topic. */
function ReportsToday() {
  const k = reportsToday.value;
  const at = maxAt(reportsTodayAt.value, lastEventAt.value.reports);
  if (!can('reports:read')) return null;
  return (
    <Widget title={t('ov.reports')} at={at} id="fig-reports" class="figure">
      <p class="big" data-testid="reports-today">
        {k ? fmtNum(k.received, 0) : '—'}
      </p>
      <p class="hint">
        {t('ov.ontime')}: <b data-testid="reports-ontime">{k?.on_time_pct != null ? `${fmtNum(k.on_time_pct, 0)} %` : '—'}</b>
        {k && k.open_overdue > 0 && <span class="warn"> · {t('ov.reportsToday', { n: fmtNum(k.open_overdue, 0) })}</span>}
      </p>
    </Widget>
  );
}

function AqiByWard() {
  sensorsVersion.value;
  const [wards, setWards] = useState<Wards | null>(null);
  useEffect(() => void loadWards().then(setWards, () => undefined), []);
  const names = new Map(wards?.features.map((f) => [f.properties.code, lang.value === 'en' ? f.properties.nameEn : f.properties.name]) ?? []);
  const rows = [...sensors.values()]
    .filter((s) => s.type === 'AirQualityObserved')
    .map((s) => ({ s, aqi: numberAttr(s, 'airQualityIndex') }))
    .sort((a, b) => (b.aqi ?? -1) - (a.aqi ?? -1));
  const at = maxAt(sensorsLoadedAt.value, lastEventAt.value.entities);
  return (
    <Widget title={t('ov.aqi')} at={at} silenceMs={SENSOR_SILENCE} id="w-aqi" class="aqi-list">
      <ol class="bars">
        {rows.slice(0, 12).map(({ s, aqi }) => (
          <li key={s.id}>
            <span class="bar-label">{names.get(s.ward) ?? s.wardName ?? s.id}</span>
            <span class="bar" style={{ width: `${Math.min(100, ((aqi ?? 0) / 300) * 100)}%`, background: aqiColor(aqi) }} />
            <span class="bar-value">
              {aqi != null ? (
                <>
                  {fmtNum(aqi, 0)} <small>{aqiLabel(aqi)}</small>
                </>
              ) : (
                <small title={aqiLabel(null)}>PM2.5 {fmtNum(numberAttr(s, 'pm25'))}</small>
              )}
            </span>
          </li>
        ))}
      </ol>
    </Widget>
  );
}

function Rivers() {
  sensorsVersion.value;
  const gauges = [...sensors.values()].filter((s) => s.type === 'WaterObserved').sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
  const top = 5;
  const at = maxAt(sensorsLoadedAt.value, lastEventAt.value.entities);
  return (
    <Widget title={t('ov.rivers')} at={at} silenceMs={SENSOR_SILENCE} id="w-rivers">
      <div class="rivers" role="list">
        {gauges.map((g) => {
          const h = numberAttr(g, 'height') ?? 0;
          const level = Math.max(0, Math.min(3, numberAttr(g, 'floodAlarmLevel') ?? 0));
          return (
            <div class="river" role="listitem" key={g.id} title={`${g.id}: ${fmtNum(h, 2)} m`}>
              <div class="gauge" aria-hidden="true">
                {ALARMS.map((a, i) => (
                  <span class="alarm" style={{ bottom: `${(a / top) * 100}%` }} data-level={i + 1} key={a} />
                ))}
                <span class="water" style={{ height: `${Math.min(100, (h / top) * 100)}%`, background: FLOOD_COLORS[level] }} />
              </div>
              <span class="river-name">{g.id.slice(g.id.lastIndexOf(':') + 1).replace(/^hue-/, '')}</span>
              <span class="river-value">{fmtNum(h, 2)} m</span>
              <span class={`river-level l${level}`}>{t(`flood.${level}` as Key)}</span>
            </div>
          );
        })}
      </div>
    </Widget>
  );
}

function LatestEvents() {
  const list = events.value;
  const recentAlerts = openAlerts.value.slice(0, 10);
  const at = maxAt(alertsLoadedAt.value, lastEventAt.value.alerts, lastEventAt.value.incidents);
  return (
    <Widget title={t('ov.events')} at={at} id="w-events" class="events">
      <ol class="event-list" aria-live="polite" tabIndex={0} aria-label={t('ov.events')}>
        {list.map((e) => (
          <li key={`${e.id}-${e.status}`} class={`ev ev-${e.kind} lvl-${e.level}`}>
            <time>{fmtTime(e.at)}</time>
            <span class="ev-kind">{t(`ev.${e.kind}`)}</span>
            <span class="ev-title">{e.title}</span>
            <span class="ev-status">{e.kind === 'report' ? statusLabel(e.status) : t((e.kind === 'alert' ? `ast.${e.status}` : `ist.${e.status}`) as Key)}</span>
          </li>
        ))}
        {list.length === 0 &&
          recentAlerts.map((a) => (
            <li key={a.id} class={`ev ev-alert lvl-${a.severity}`}>
              <time>{fmtTime(a.lastSeen)}</time>
              <span class="ev-kind">{t(`sev.${a.severity}` as Key)}</span>
              <span class="ev-title">{a.headline}</span>
              <span class="ev-status">{t(`ast.${a.status}` as Key)}</span>
            </li>
          ))}
      </ol>
      {list.length === 0 && recentAlerts.length === 0 && <p class="hint">{t('ov.noEvents')}</p>}
    </Widget>
  );
}

export function Overview() {
  useSensorFeed();
  useAlertFeed();
  useIncidentFeed();
  useReportsToday();
  const at = maxAt(sensorsLoadedAt.value, lastEventAt.value.entities);
  return (
    <div class="overview">
      <h1 class="screen-title">{t('ov.title')}</h1>
      <KeyFigures />
      <div class="overview-grid">
        <Widget title={t('ov.map')} at={at} silenceMs={SENSOR_SILENCE} id="w-map" class="map-widget">
          <CityMap colourBy="aqi" sensorTypes={['AirQualityObserved', 'WaterObserved']} incidents label={t('ov.map')} />
        </Widget>
        <AqiByWard />
        <Rivers />
        <LatestEvents />
      </div>
    </div>
  );
}
