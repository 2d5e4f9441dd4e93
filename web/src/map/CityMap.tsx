// The city map: Huế's ward polygons as the offline base map (a tile server is optional: set
// localStorage "cityioc.tiles" to an {z}/{x}/{y} URL), wards coloured by VN_AQI, live sensor
// markers, incidents, and an optional pin (citizen portal).
import 'leaflet/dist/leaflet.css';
import L from 'leaflet';
import { useEffect, useRef } from 'preact/hooks';
import { effect } from '@preact/signals';
import { loadWards, type WardProps } from './wards';
import { SensorLayer } from './sensorLayer';
import { aqiColor, aqiLabel, INCIDENT_SHADES, REPORT_SHADES } from './colors';
import { sensors, sensorsVersion, numberAttr, onSensorsChanged, type Sensor } from '../stores/sensors';
import { openIncidents } from '../stores/incidents';
import { openReportFeatures, reportsByWard } from '../stores/reportFeed';
import { statusLabel } from '../lib/reports';
import { lang, t, fmtNum, fmtDateTime } from '../lib/i18n';
import { storage } from '../lib/storage';
import type { Key } from '../lib/strings';

export interface CityMapProps {
  colourBy?: 'aqi' | 'incidents' | 'reports' | 'none';
  sensorTypes?: string[];
  /** Group markers below zoom 15 (default); false draws every marker. */
  cluster?: boolean;
  incidents?: boolean;
  /** Open citizen reports (public feed) as markers; click → onReport. */
  reports?: boolean;
  onReport?: (id: string) => void;
  onSelect?: (s: Sensor) => void;
  onPick?: (lat: number, lon: number) => void;
  pin?: [number, number] | null;
  focus?: [number, number] | null;
  label: string;
  class?: string;
}

const HUE: L.LatLngExpression = [16.463, 107.59];

/** Highest VN_AQI per ward code among its stations. */
function aqiByWard(): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of sensors.values()) {
    if (s.type !== 'AirQualityObserved' || !s.ward) continue;
    const v = numberAttr(s, 'airQualityIndex');
    if (v != null) out.set(s.ward, Math.max(v, out.get(s.ward) ?? 0));
  }
  return out;
}

/** Open incidents per ward code. */
function incidentsByWard(): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of openIncidents.peek()) if (i.ward_code) out.set(i.ward_code, (out.get(i.ward_code) ?? 0) + 1);
  return out;
}

/** Fill of a ward for the chosen colouring. */
function wardStyle(colourBy: CityMapProps['colourBy'], code: string, aqi: Map<string, number> | null, inc: Map<string, number> | null): L.PathOptions {
  if (colourBy === 'reports') {
    const n = inc?.get(code) ?? 0;
    return { fillColor: REPORT_SHADES[n === 0 ? 0 : n <= 2 ? 1 : n <= 5 ? 2 : 3]!, fillOpacity: 0.6 };
  }
  if (colourBy === 'aqi') {
    const v = aqi?.get(code);
    return { fillColor: aqiColor(v ?? null), fillOpacity: v != null ? 0.55 : 0.35 };
  }
  if (colourBy === 'incidents') {
    const n = inc?.get(code) ?? 0;
    return { fillColor: INCIDENT_SHADES[Math.min(3, n)]!, fillOpacity: 0.6 };
  }
  return { fillColor: '#e5e7eb', fillOpacity: 0.35 };
}

export function CityMap(p: CityMapProps) {
  const el = useRef<HTMLDivElement>(null);
  const state = useRef<{
    map: L.Map;
    wards?: L.GeoJSON;
    sensors?: SensorLayer;
    incidents: L.LayerGroup;
    reports: L.LayerGroup;
    recolour?: () => void;
    pin?: L.Marker | L.CircleMarker;
  } | null>(null);
  const props = useRef(p);
  props.current = p;

  useEffect(() => {
    const map = L.map(el.current!, { preferCanvas: true, zoomSnap: 0.5, attributionControl: true }).setView(HUE, 12);
    map.attributionControl.setPrefix(false);
    const tiles = storage.get('cityioc.tiles');
    if (tiles) L.tileLayer(tiles, { maxZoom: 19, attribution: '© OpenStreetMap' }).addTo(map);
    else el.current!.classList.add('offline-base');
    const incidents = L.layerGroup().addTo(map);
    const reports = L.layerGroup().addTo(map);
    state.current = { map, incidents, reports };
    map.on('click', (e: L.LeafletMouseEvent) => props.current.onPick?.(e.latlng.lat, e.latlng.lng));

    let alive = true;
    void loadWards().then((fc) => {
      if (!alive) return;
      const layer = L.geoJSON(fc, {
        style: () => ({ color: '#334155', weight: 1, fillOpacity: 0.45, fillColor: '#e5e7eb' }),
        onEachFeature: (f, l) => {
          const w = f.properties as WardProps;
          l.bindTooltip(() => {
            const aqi = aqiByWard().get(w.code) ?? null;
            const name = lang.value === 'en' ? w.fullNameEn : w.fullName;
            if (props.current.colourBy === 'incidents') return `${name} — ${t('map.openIncidents', { n: incidentsByWard().get(w.code) ?? 0 })}`;
            if (props.current.colourBy === 'reports') return `${name} — ${t('map.openReports', { n: reportsByWard().get(w.code) ?? 0 })}`;
            return props.current.colourBy === 'aqi' ? `${name} — VN_AQI ${fmtNum(aqi, 0)} (${aqiLabel(aqi)})` : name;
          }, { sticky: true });
        },
      }).addTo(map);
      layer.bringToBack();
      state.current!.wards = layer;
      map.invalidateSize();
      const focus = props.current.focus;
      if (focus) map.setView(focus, 15, { animate: false });
      else map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false });
      recolour();
    });

    const recolour = () => {
      const s = state.current;
      if (!s?.wards) return;
      const by = props.current.colourBy;
      const aqi = by === 'aqi' ? aqiByWard() : null;
      const inc = by === 'incidents' ? incidentsByWard() : by === 'reports' ? reportsByWard() : null;
      s.wards.setStyle((f) => wardStyle(by, (f?.properties as WardProps | undefined)?.code ?? '', aqi, inc));
    };
    state.current.recolour = recolour;

    let layer: SensorLayer | undefined;
    if (p.sensorTypes) {
      layer = new SensorLayer(map, p.sensorTypes, (s) => props.current.onSelect?.(s), p.cluster ?? true);
      state.current.sensors = layer;
      layer.rebuild();
    }
    // Ward colours follow the stations at most every 2 s; markers follow every change.
    let recolourTimer = 0;
    const offChanged = onSensorsChanged((changed) => {
      layer?.update(changed);
      if (!recolourTimer && changed.some((s) => s.type === 'AirQualityObserved')) {
        recolourTimer = window.setTimeout(() => {
          recolourTimer = 0;
          recolour();
        }, 2000);
      }
    });
    // The first load arrives in one batch: draw everything once it is there.
    let seen = -1;
    const offFirst = effect(() => {
      const v = sensorsVersion.value;
      if (seen < 0 && v > 0 && sensors.size) {
        seen = v;
        layer?.rebuild();
        recolour();
      }
    });
    // The container's size settles after the lazy CSS and the layout: keep Leaflet in step.
    const resize = new ResizeObserver(() => state.current && map.invalidateSize({ pan: false }));
    resize.observe(el.current!);
    return () => {
      alive = false;
      window.clearTimeout(recolourTimer);
      offChanged();
      offFirst();
      resize.disconnect();
      layer?.destroy();
      map.remove();
      state.current = null;
    };
  }, []);

  // Layer choices.
  useEffect(() => {
    state.current?.sensors?.setTypes(p.sensorTypes ?? []);
  }, [p.sensorTypes?.join(',')]);
  useEffect(() => state.current?.recolour?.(), [p.colourBy]);

  // Incidents as squares-ish markers.
  const incidents = openIncidents.value;
  useEffect(() => {
    const s = state.current;
    if (!s) return;
    s.incidents.clearLayers();
    if (props.current.colourBy === 'incidents') s.recolour?.();
    for (const i of p.incidents ? incidents : []) {
      if (!i.location) continue;
      L.circleMarker([i.location.lat, i.location.lon], {
        radius: 11,
        color: '#7f1d1d',
        weight: 3,
        fillColor: i.priority === 'critical' ? '#dc2626' : '#fb923c',
        fillOpacity: 0.9,
      })
        .bindTooltip(`${t('ev.incident')}: ${i.title} (${t(`prio.${i.priority}` as Key)})`)
        .addTo(s.incidents);
    }
  }, [incidents, p.incidents]);

  // Open citizen reports: small purple diamonds-ish circles, overdue ones ringed in red.
  const features = openReportFeatures.value;
  useEffect(() => {
    const s = state.current;
    if (!s) return;
    s.reports.clearLayers();
    if (props.current.colourBy === 'reports') s.recolour?.();
    if (!p.reports) return;
    for (const f of features) {
      if (!f.geometry) continue;
      const [lon, lat] = f.geometry.coordinates;
      const pr = f.properties;
      const m = L.circleMarker([lat, lon], {
        radius: 7,
        color: pr.overdue ? '#b91c1c' : '#4c1d95',
        weight: pr.overdue ? 3 : 2,
        fillColor: '#8b5cf6',
        fillOpacity: 0.85,
      })
        .bindTooltip(`${t('ev.report')} ${f.id ?? ''}: ${pr.service_name} · ${statusLabel(pr.status)} · ${fmtDateTime(pr.created_at)}${pr.overdue ? ` · ${t('portal.overdue')}` : ''}`)
        .addTo(s.reports);
      if (f.id) m.on('click', () => props.current.onReport?.(f.id!));
    }
  }, [features, p.reports, p.colourBy]);

  // Pin and focus.
  useEffect(() => {
    const s = state.current;
    if (!s) return;
    s.pin?.remove();
    if (p.pin) s.pin = L.circleMarker(p.pin, { radius: 10, color: '#b91c1c', weight: 3, fillColor: '#fecaca', fillOpacity: 1 }).addTo(s.map);
  }, [p.pin?.[0], p.pin?.[1]]);
  useEffect(() => {
    if (p.focus) state.current?.map.setView(p.focus, Math.max(state.current.map.getZoom(), 15), { animate: false });
  }, [p.focus?.[0], p.focus?.[1]]);

  return <div ref={el} class={`city-map ${p.class ?? ''}`} role="region" aria-label={p.label} />;
}
