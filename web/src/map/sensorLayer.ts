// Sensor markers on a canvas renderer (thousands of circles stay smooth), with a light
// grid clustering below CLUSTER_ZOOM: sensors in the same 56 px screen cell are drawn as one
// circle with their count, coloured by the worst member. Live updates restyle individual markers
// in place; clusters are rebuilt at most once a second.
import L from 'leaflet';
import { sensors, type Sensor } from '../stores/sensors';
import { sensorState, TYPE_RADIUS } from './colors';
import { t, fmtNum } from '../lib/i18n';
import type { Key } from '../lib/strings';

const CLUSTER_ZOOM = 15;
const CELL = 56;
const RESTYLE_MS = 500;
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
    private readonly cluster = true,
  ) {
    this.types = new Set(types);
    this.group.addTo(map);
    map.on('zoomend moveend', this.onView);
  }

  private readonly onView = () => this.rebuild();

  destroy(): void {
    window.clearTimeout(this.rebuildTimer);
    window.clearTimeout(this.flushTimer);
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
    this.clustered = this.cluster && this.map.getZoom() < CLUSTER_ZOOM && list.length > 200;
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
      // A cluster is one DOM marker with its count (a few dozen at most on screen).
      const size = Math.round(22 + Math.min(22, Math.log2(rest.length) * 3));
      const colour = worst < SEVERITY.length ? SEVERITY[worst]! : '#60a5fa';
      const c = L.marker([lat / rest.length, lon / rest.length], {
        icon: L.divIcon({
          className: 'cluster',
          html: `<span style="background:${colour};width:${size}px;height:${size}px">${fmtNum(rest.length, 0)}</span>`,
          iconSize: [size, size],
        }),
        title: t('map.cluster', { n: rest.length }),
        keyboard: true,
      });
      c.on('click', () => {
        const b = L.latLngBounds(rest.map((s) => [s.lat!, s.lon!] as [number, number]));
        this.map.fitBounds(b.pad(0.3), { maxZoom: CLUSTER_ZOOM + 1, animate: false });
      });
      this.group.addLayer(c);
    }
  }

  private pending = new Map<string, Sensor>();
  private flushTimer = 0;

  /** Live changes, applied at most every RESTYLE_MS: a canvas restyle redraws the region of the
   *  marker, so thousands of changes per second become a few redraws. */
  update(changed: Sensor[]): void {
    for (const s of changed) this.pending.set(s.id, s);
    if (!this.flushTimer) {
      this.flushTimer = window.setTimeout(() => {
        this.flushTimer = 0;
        const batch = [...this.pending.values()];
        this.pending.clear();
        this.apply(batch);
      }, RESTYLE_MS);
    }
  }

  private apply(changed: Sensor[]): void {
    let missing = false;
    const bounds = this.map.getBounds().pad(0.2);
    for (const s of changed) {
      if (!this.types.has(s.type)) continue;
      const m = this.markers.get(s.id);
      if (m) {
        // Only what changes on screen: each restyle makes the canvas redraw its region.
        const color = sensorState(s).color;
        if (m.options.fillColor !== color) m.setStyle({ fillColor: color });
        if (s.lat != null && s.lon != null && !m.getLatLng().equals([s.lat, s.lon])) m.setLatLng([s.lat, s.lon]);
      } else if (s.lat != null && s.lon != null && bounds.contains([s.lat, s.lon])) {
        missing = true;
      }
    }
    if ((missing || this.clustered) && !this.rebuildTimer) {
      this.rebuildTimer = window.setTimeout(() => this.rebuild(), 1000);
    }
  }
}
