// Colours and labels of sensor states. VN_AQI categories and colours per QĐ 1459/QĐ-TCMT.
import type { Sensor } from '../stores/sensors';
import { numberAttr } from '../stores/sensors';
import { t, fmtNum } from '../lib/i18n';
import type { Key } from '../lib/strings';

const AQI = [
  { max: 50, color: '#00e400' },
  { max: 100, color: '#ffff00' },
  { max: 150, color: '#ff7e00' },
  { max: 200, color: '#ff0000' },
  { max: 300, color: '#8f3f97' },
  { max: Infinity, color: '#7e0023' },
];

/** 1…6, or 0 when unknown. */
export function aqiCategory(aqi: number | null): number {
  if (aqi == null) return 0;
  return AQI.findIndex((c) => aqi <= c.max) + 1;
}
export function aqiColor(aqi: number | null): string {
  const c = aqiCategory(aqi);
  return c ? AQI[c - 1]!.color : '#9ca3af';
}
export function aqiLabel(aqi: number | null): string {
  const c = aqiCategory(aqi);
  return c ? t(`aqi.${c}` as Key) : t('aqi.none');
}
export const AQI_LEGEND = AQI.map((c, i) => ({ cat: i + 1, color: c.color }));

/** Wards by open incidents: 0, 1, 2, 3 or more. */
export const INCIDENT_SHADES = ['#f1f5f9', '#fde68a', '#fb923c', '#dc2626'];

/** Wards by open citizen reports: 0, 1–2, 3–5, 6 or more. */
export const REPORT_SHADES = ['#f8fafc', '#ddd6fe', '#a78bfa', '#6d28d9'];
export const REPORT_BINS = ['0', '1–2', '3–5', '6+'];

export const FLOOD_COLORS = ['#2563eb', '#eab308', '#f97316', '#dc2626'];

/** The one value a marker shows for its type, formatted, and its colour. */
export function sensorState(s: Sensor): { color: string; value: string; attr: string | null } {
  switch (s.type) {
    case 'AirQualityObserved': {
      const aqi = numberAttr(s, 'airQualityIndex');
      return { color: aqiColor(aqi), value: aqi == null ? fmtNum(numberAttr(s, 'pm25')) + ' µg/m³' : `${fmtNum(aqi, 0)} · ${aqiLabel(aqi)}`, attr: aqi == null ? 'pm25' : 'airQualityIndex' };
    }
    case 'WaterObserved': {
      const level = Math.max(0, Math.min(3, numberAttr(s, 'floodAlarmLevel') ?? 0));
      return { color: FLOOD_COLORS[level]!, value: `${fmtNum(numberAttr(s, 'height'), 2)} m · ${t(`flood.${level}` as Key)}`, attr: 'height' };
    }
    case 'WasteContainer': {
      const f = numberAttr(s, 'fillingLevel');
      return { color: f == null ? '#9ca3af' : f >= 0.9 ? '#dc2626' : f >= 0.7 ? '#f97316' : '#16a34a', value: f == null ? '—' : `${fmtNum(f * 100, 0)} %`, attr: 'fillingLevel' };
    }
    case 'Streetlight': {
      const on = s.attrs.powerState === 'on';
      const broken = s.attrs.status != null && s.attrs.status !== 'ok';
      return { color: broken ? '#dc2626' : on ? '#facc15' : '#6b7280', value: String(s.attrs.powerState ?? '—'), attr: 'illuminanceLevel' };
    }
    case 'TrafficFlowObserved': {
      const v = numberAttr(s, 'averageVehicleSpeed');
      return { color: v == null ? '#9ca3af' : v < 10 ? '#dc2626' : v < 25 ? '#f97316' : '#16a34a', value: v == null ? '—' : `${fmtNum(v, 0)} km/h`, attr: 'averageVehicleSpeed' };
    }
    case 'WaterQualityObserved': {
      const n = numberAttr(s, 'qcvn40Exceedances');
      return { color: n ? '#dc2626' : '#0d9488', value: n == null ? '—' : `${fmtNum(n, 0)} × QCVN 40`, attr: null };
    }
    default:
      return { color: '#1e3a8a', value: String(s.attrs.deviceState ?? ''), attr: null };
  }
}

export const TYPE_RADIUS: Record<string, number> = {
  AirQualityObserved: 9,
  WaterObserved: 9,
  WaterQualityObserved: 7,
  TrafficFlowObserved: 6,
  Device: 6,
  WasteContainer: 4,
  Streetlight: 3,
};
