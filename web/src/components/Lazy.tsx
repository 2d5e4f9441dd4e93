// Code-split screens: each loads on first visit (Leaflet and uPlot stay out of the first load
// of screens that do not need them).
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../lib/i18n';

type Loader = () => Promise<FunctionComponent>;
const loaded = new Map<Loader, FunctionComponent>();

export function Lazy({ load }: { load: Loader }) {
  const [, setTick] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const C = loaded.get(load);
  useEffect(() => {
    if (C) return;
    let alive = true;
    load().then(
      (c) => {
        loaded.set(load, c);
        if (alive) setTick((n) => n + 1);
      },
      (e: Error) => alive && setError(e.message),
    );
    return () => {
      alive = false;
    };
  }, [load, C]);
  if (C) return <C />;
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : (
    <p class="loading">{t('loading')}</p>
  );
}
