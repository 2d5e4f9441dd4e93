// Map: wards coloured by VN_AQI, sensors by type with live values (clustered when zoomed out),
// incidents; a sensor's details with a time-series chart of any numeric attribute.
import { useState } from 'preact/hooks';
import { t, fmtNum, fmtTime } from '../lib/i18n';
import { current, go } from '../lib/router';
import { lastEventAt } from '../lib/live';
import { attrLabel, typeLabel } from '../lib/labels';
import { Widget } from '../components/Fresh';
import { TimeSeries } from '../components/TimeSeries';
import { CityMap } from '../map/CityMap';
import { sensorState, AQI_LEGEND, INCIDENT_SHADES, REPORT_SHADES, REPORT_BINS } from '../map/colors';
import { useOpenReportsFeed, openReportFeatures } from '../stores/reportFeed';
import type { Key } from '../lib/strings';
import { sensors, sensorsVersion, sensorsLoadedAt, SENSOR_TYPES, useSensorFeed, type Sensor } from '../stores/sensors';
import { useIncidentFeed } from '../stores/incidents';

const HIDDEN_ATTRS = new Set(['location', 'wardCode', 'areaServed', 'controlledProperty', 'deviceCategory']);

function formatValue(v: unknown): string {
  if (typeof v === 'number') return fmtNum(v, 2);
  if (typeof v === 'boolean') return v ? '✓' : '✗';
  if (v == null) return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function Details({ s }: { s: Sensor }) {
  sensorsVersion.value; // live values
  const st = sensorState(s);
  const entries = Object.entries(s.attrs).filter(([k]) => !HIDDEN_ATTRS.has(k));
  const numeric = entries.filter(([, v]) => typeof v === 'number').map(([k]) => k);
  if (st.attr && numeric.includes(st.attr)) numeric.splice(numeric.indexOf(st.attr), 1), numeric.unshift(st.attr);
  return (
    <div class="sensor-details" data-entity={s.id}>
      <h3>
        {typeLabel(s.type)} <small>{s.wardName}</small>
      </h3>
      <p class="entity-id">{s.id}</p>
      <p class="headline-value">
        <span class="swatch" style={{ background: st.color }} aria-hidden="true" />
        <span data-testid="sensor-value">{st.value}</span>
      </p>
      <dl class="attrs">
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt>{attrLabel(k)}</dt>
            <dd data-attr={k}>{formatValue(v)}</dd>
          </div>
        ))}
      </dl>
      <p class="hint">{s.updatedAt ? t('live.updated', { time: fmtTime(s.updatedAt) }) : ''}</p>
      {numeric.length > 0 && <TimeSeries entityId={s.id} attrs={numeric} liveAt={s.updatedAt} liveValues={s.attrs} />}
    </div>
  );
}

export function MapScreen() {
  useSensorFeed();
  useIncidentFeed();
  useOpenReportsFeed();
  sensorsVersion.value;
  const [types, setTypes] = useState<string[]>(['AirQualityObserved', 'WaterObserved', 'TrafficFlowObserved', 'WasteContainer', 'Device']);
  const [colourBy, setColourBy] = useState<'aqi' | 'incidents' | 'reports' | 'none'>(current.value.params.get('colour') === 'reports' ? 'reports' : 'aqi');
  const [showIncidents, setShowIncidents] = useState(true);
  const [showReports, setShowReports] = useState(true);
  const selectedId = current.value.params.get('id');
  const selected = selectedId ? sensors.get(selectedId) ?? null : null;
  const toggle = (type: string) => setTypes((ts) => (ts.includes(type) ? ts.filter((x) => x !== type) : [...ts, type]));
  const select = (s: Sensor) => go('map', { id: s.id });
  const at = Math.max(sensorsLoadedAt.value, lastEventAt.value.entities ?? 0);
  const counts = new Map<string, number>();
  for (const s of sensors.values()) counts.set(s.type, (counts.get(s.type) ?? 0) + 1);

  return (
    <div class="map-screen">
      <aside class="map-controls widget" aria-label={t('map.layers')}>
        <h1 class="screen-title">{t('nav.map')}</h1>
        <fieldset>
          <legend>{t('map.colourBy')}</legend>
          <label class="check">
            <input type="radio" name="colour" checked={colourBy === 'aqi'} onChange={() => setColourBy('aqi')} />
            {t('map.byAqi')}
          </label>
          <label class="check">
            <input type="radio" name="colour" checked={colourBy === 'incidents'} onChange={() => setColourBy('incidents')} />
            {t('map.byIncidents')}
          </label>
          <label class="check">
            <input type="radio" name="colour" checked={colourBy === 'reports'} onChange={() => setColourBy('reports')} />
            {t('map.byReports')}
          </label>
          <label class="check">
            <input type="radio" name="colour" checked={colourBy === 'none'} onChange={() => setColourBy('none')} />
            {t('map.byNone')}
          </label>
        </fieldset>
        <fieldset>
          <legend>{t('map.sensors')}</legend>
          {SENSOR_TYPES.map((type) => (
            <label class="check" key={type}>
              <input type="checkbox" checked={types.includes(type)} onChange={() => toggle(type)} />
              {typeLabel(type)} <small>({fmtNum(counts.get(type) ?? 0, 0)})</small>
            </label>
          ))}
          <label class="check">
            <input type="checkbox" checked={showIncidents} onChange={() => setShowIncidents((v) => !v)} />
            {t('map.incidents')}
          </label>
          <label class="check">
            <input type="checkbox" checked={showReports} onChange={() => setShowReports((v) => !v)} />
            {t('map.reports')} <small>({fmtNum(openReportFeatures.value.length, 0)})</small>
          </label>
        </fieldset>
        <label>
          {t('map.sensors')}
          <select value={selectedId ?? ''} onChange={(e) => go('map', { id: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">—</option>
            {[...sensors.values()]
              .filter((s) => s.type === 'AirQualityObserved' || s.type === 'WaterObserved')
              .map((s) => (
                <option value={s.id} key={s.id}>
                  {typeLabel(s.type)} · {s.wardName || s.id}
                </option>
              ))}
          </select>
        </label>
        {colourBy === 'aqi' && (
          <div class="legend" aria-label={t('map.legend')}>
            {AQI_LEGEND.map((l) => (
              <span key={l.cat}>
                <i style={{ background: l.color }} aria-hidden="true" />
                {t(`aqi.${l.cat}` as Key)}
              </span>
            ))}
          </div>
        )}
        {colourBy === 'incidents' && (
          <div class="legend">
            {INCIDENT_SHADES.map((c, n) => (
              <span key={c}>
                <i style={{ background: c }} aria-hidden="true" />
                {t('map.openIncidents', { n: n === 3 ? '3+' : n })}
              </span>
            ))}
          </div>
        )}
        {colourBy === 'reports' && (
          <div class="legend">
            {REPORT_SHADES.map((c, n) => (
              <span key={c}>
                <i style={{ background: c }} aria-hidden="true" />
                {t('map.openReports', { n: REPORT_BINS[n]! })}
              </span>
            ))}
          </div>
        )}
      </aside>
      <Widget title={t('ov.map')} at={at} silenceMs={120_000} class="map-main" id="w-bigmap">
        <CityMap
          colourBy={colourBy}
          sensorTypes={types}
          cluster={current.value.params.get('cluster') !== '0'}
          incidents={showIncidents}
          reports={showReports}
          onReport={(id) => go('ops', { report: id })}
          onSelect={select}
          focus={selected && selected.lat != null && selected.lon != null ? [selected.lat, selected.lon] : null}
          label={t('nav.map')}
        />
      </Widget>
      <aside class="map-details widget" aria-label={t('details')} aria-live="polite">
        {selected ? <Details s={selected} /> : <p class="hint">{t('map.select')}</p>}
      </aside>
    </div>
  );
}
