// Sensor markers on a canvas renderer (thousands of circles stay smooth), with a light
// grid clustering below CLUSTER_ZOOM: sensors in the same 56 px screen cell are drawn as one
// circle with their count, coloured by the worst member. Live updates restyle individual markers
// in place; clusters are rebuilt at most once a second.
import L from 'leaflet';
import { sensors, type Sensor } from '../stores/sensors';
import { sensorState, TYPE_RADIUS } from './colors';
import { t } from '../lib/i18n';
import type { Key } from '../lib/strings';

const CLUSTER_ZOOM = 15;
const CELL = 56;
const SEVERITY = ['#7e0023', '#8f3f97', '#dc2626', '#ff0000', '#f97316', '#ff7e00', '#eab308', '#ffff00', '#facc15'];

export class SensorLayer {
  private readonly group = L.layerGroup();
  private readonly markers = new Map<string, L.CircleMarker>();
  private readonly renderer = L.canvas({ padding: 0.3 });
  private clustered = false;
  private rebuildTimer = 0;
  types: Set<string>;

  constructor(
    private readonly map: L.Map,
    types: Iterable<string>,
    private readonly onSelect: (s: Sensor) => void,
  ) {
    this.types = new Set(types);
    this.group.addTo(map);
    map.on('zoomend moveend', this.onView);
  }

  private readonly onView = () => this.rebuild();

  destroy(): void {
    window.clearTimeout(this.rebuildTimer);
    this.map.off('zoomend moveend', this.onView);
    this.group.remove();
  }

  setTypes(types: Iterable<string>): void {
    this.types = new Set(types);
    this.rebuild();
  }

  private visible(): Sensor[] {
    const bounds = this.map.getBounds().pad(0.2);
    const out: Sensor[] = [];
    for (const s of sensors.values()) {
      if (s.lat == null || s.lon == null || !this.types.has(s.type)) continue;
      if (bounds.contains([s.lat, s.lon])) out.push(s);
    }
    return out;
  }

  private marker(s: Sensor): L.CircleMarker {
    const st = sensorState(s);
    const m = L.circleMarker([s.lat!, s.lon!], {
      renderer: this.renderer,
      radius: TYPE_RADIUS[s.type] ?? 5,
      color: '#111827',
      weight: 1,
      fillColor: st.color,
      fillOpacity: 0.9,
    });
    m.bindTooltip(() => `${t(`type.${s.type}` as Key)}: ${sensorState(s).value}`);
    m.on('click', () => this.onSelect(s));
    return m;
  }

  rebuild(): void {
    window.clearTimeout(this.rebuildTimer);
    this.rebuildTimer = 0;
    this.group.clearLayers();
    this.markers.clear();
    const list = this.visible();
    this.clustered = this.map.getZoom() < CLUSTER_ZOOM && list.length > 200;
    if (!this.clustered) {
      for (const s of list) {
        const m = this.marker(s);
        this.markers.set(s.id, m);
        this.group.addLayer(m);
      }
      return;
    }
    const cells = new Map<string, Sensor[]>();
    for (const s of list) {
      const p = this.map.latLngToLayerPoint([s.lat!, s.lon!]);
      const key = `${Math.floor(p.x / CELL)}:${Math.floor(p.y / CELL)}`;
      let cell = cells.get(key);
      if (!cell) cells.set(key, (cell = []));
      cell.push(s);
    }
    for (const members of cells.values()) {
      if (members.length === 1) {
        const s = members[0]!;
        const m = this.marker(s);
        this.markers.set(s.id, m);
        this.group.addLayer(m);
        continue;
      }
      // Air-quality stations and river gauges are never hidden in a cluster.
      const key = members.filter((s) => s.type === 'AirQualityObserved' || s.type === 'WaterObserved');
      for (const s of key) {
        const m = this.marker(s);
        this.markers.set(s.id, m);
        this.group.addLayer(m);
      }
      const rest = members.filter((s) => !key.includes(s));
      if (rest.length === 0) continue;
      let lat = 0;
      let lon = 0;
      let worst = SEVERITY.length;
      for (const s of rest) {
        lat += s.lat!;
        lon += s.lon!;
        const i = SEVERITY.indexOf(sensorState(s).color);
        if (i >= 0 && i < worst) worst = i;
      }
      const c = L.circleMarker([lat / rest.length, lon / rest.length], {
        renderer: this.renderer,
        radius: 8 + Math.min(14, Math.log2(rest.length) * 2.5),
        color: '#1f2937',
        weight: 2,
        fillColor: worst < SEVERITY.length ? SEVERITY[worst]! : '#60a5fa',
        fillOpacity: 0.75,
      });
      c.bindTooltip(t('map.cluster', { n: rest.length }), { permanent: false });
      c.on('click', () => {
        const b = L.latLngBounds(rest.map((s) => [s.lat!, s.lon!] as [number, number]));
        this.map.fitBounds(b.pad(0.3), { maxZoom: CLUSTER_ZOOM + 1, animate: false });
      });
      this.group.addLayer(c);
    }
  }

  /** Live changes: restyle what is drawn, rebuild clusters lazily. */
  update(changed: Sensor[]): void {
    let missing = false;
    const bounds = this.map.getBounds().pad(0.2);
    for (const s of changed) {
      if (!this.types.has(s.type)) continue;
      const m = this.markers.get(s.id);
      if (m) {
        m.setStyle({ fillColor: sensorState(s).color });
        if (s.lat != null && s.lon != null) m.setLatLng([s.lat, s.lon]);
      } else if (s.lat != null && s.lon != null && bounds.contains([s.lat, s.lon])) {
        missing = true;
      }
    }
    if ((missing || this.clustered) && !this.rebuildTimer) {
      this.rebuildTimer = window.setTimeout(() => this.rebuild(), 1000);
    }
  }
}
