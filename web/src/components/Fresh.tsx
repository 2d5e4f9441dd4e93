// "Last updated" and stale marking for a widget. A widget is stale when the live stream is down,
// when its data never arrived, or when a feed that should tick (sensors) fell silent.
import { now } from '../lib/clock';
import type { ComponentChildren } from 'preact';
import { liveStatus } from '../lib/live';
import { t, fmtTime, fmtAgo } from '../lib/i18n';

export function isStale(at: number, silenceMs?: number): boolean {
  if (!at) return true;
  if (liveStatus.value !== 'open') return true;
  return silenceMs !== undefined && now.value - at > silenceMs;
}

export function Fresh({ at, silenceMs }: { at: number; silenceMs?: number }) {
  const stale = isStale(at, silenceMs);
  return (
    <p class={stale ? 'fresh stale' : 'fresh'} data-stale={stale ? 'true' : 'false'}>
      {at ? (
        <time dateTime={new Date(at).toISOString()} title={fmtAgo(at, now.value)}>
          {t('live.updated', { time: fmtTime(at) })}
        </time>
      ) : (
        t('live.never')
      )}
      {stale && <span class="badge stale-badge">{t('live.stale')}</span>}
    </p>
  );
}

/** A titled card with its freshness line. */
export function Widget(props: {
  title: string;
  at?: number;
  silenceMs?: number;
  class?: string;
  id?: string;
  children: ComponentChildren;
}) {
  const headingId = props.id ? `${props.id}-h` : undefined;
  return (
    <section class={`widget ${props.class ?? ''}`} id={props.id} aria-labelledby={headingId}>
      <header class="widget-head">
        <h2 id={headingId}>{props.title}</h2>
        {props.at !== undefined && <Fresh at={props.at} silenceMs={props.silenceMs} />}
      </header>
      {props.children}
    </section>
  );
}

export function LiveBadge() {
  const s = liveStatus.value;
  const label = s === 'open' ? t('live.open') : s === 'closed' ? t('live.closed') : t('live.connecting');
  return (
    <span class={`live live-${s}`} role="status" data-live={s}>
      <span class="dot" aria-hidden="true" />
      {label}
    </span>
  );
}
