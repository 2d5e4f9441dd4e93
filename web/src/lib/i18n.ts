// Vietnamese first, English as a switch. t() reads the `lang` signal, so components that call it
// re-render when the language changes. Numbers, dates and times follow vi-VN conventions
// (1.234,5 · 14:05:09 06/12/2026) in the Asia/Ho_Chi_Minh time zone.
import { signal } from '@preact/signals';
import { STRINGS, type Key } from './strings';
import { storage } from './storage';

export type Lang = 'vi' | 'en';
export const lang = signal<Lang>(storage.get('cityioc.lang') === 'en' ? 'en' : 'vi');

export function setLang(l: Lang): void {
  lang.value = l;
  storage.set('cityioc.lang', l);
  document.documentElement.lang = l;
}
document.documentElement.lang = lang.value;

export type Params = Record<string, string | number>;

export function t(key: Key, params?: Params): string {
  const pair = STRINGS[key];
  const s = lang.value === 'en' ? pair[1] : pair[0];
  return params ? s.replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? '')) : s;
}

/** A string that may be a dictionary key or free text from the server. */
export function tOr(key: string, fallback: string): string {
  return key in STRINGS ? t(key as Key) : fallback;
}

const TZ = 'Asia/Ho_Chi_Minh';
const locale = () => (lang.value === 'en' ? 'en-GB' : 'vi-VN');
const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function nf(digits: number): Intl.NumberFormat {
  const k = `n${locale()}${digits}`;
  let f = cache.get(k) as Intl.NumberFormat | undefined;
  if (!f) cache.set(k, (f = new Intl.NumberFormat(locale(), { maximumFractionDigits: digits })));
  return f;
}
function df(kind: 'time' | 'datetime' | 'date' | 'short'): Intl.DateTimeFormat {
  const k = `d${locale()}${kind}`;
  let f = cache.get(k) as Intl.DateTimeFormat | undefined;
  if (!f) {
    const o: Intl.DateTimeFormatOptions = { timeZone: TZ, hourCycle: 'h23' };
    if (kind !== 'date') Object.assign(o, { hour: '2-digit', minute: '2-digit' });
    if (kind === 'time' || kind === 'datetime') o.second = '2-digit';
    if (kind !== 'time') Object.assign(o, { day: '2-digit', month: '2-digit' });
    if (kind === 'datetime' || kind === 'date') o.year = 'numeric';
    cache.set(k, (f = new Intl.DateTimeFormat(locale(), o)));
  }
  return f;
}

export function fmtNum(n: number | null | undefined, digits = 1): string {
  return n == null || !Number.isFinite(n) ? '—' : nf(digits).format(n);
}
function toDate(v: string | number | Date | null | undefined): Date | null {
  if (v == null || v === '') return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}
export function fmtTime(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  return d ? df('time').format(d) : '—';
}
export function fmtDateTime(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  return d ? df('datetime').format(d) : '—';
}
/** "14:05 06/12": time and day/month (ICU's vi short form would be "06-12"). */
export function fmtShort(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  if (!d) return '—';
  const p = Object.fromEntries(df('short').formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.hour}:${p.minute} ${p.day}/${p.month}`;
}
/** "3 phút trước" / "3 minutes ago". */
export function fmtAgo(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return t('ago.seconds', { n: s });
  if (s < 3600) return t('ago.minutes', { n: Math.floor(s / 60) });
  if (s < 86400) return t('ago.hours', { n: Math.floor(s / 3600) });
  return t('ago.days', { n: Math.floor(s / 86400) });
}
