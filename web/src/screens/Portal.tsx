// Citizen portal (mobile-first, public, Vietnamese first) on the native citizen-report API
// (issue 5, src/api/report_routes.cc): category first (grouped; matters the city does not take
// show where to go instead), description, a map pin or an address, the category's questions, up
// to 5 photos checked here for type and size, consent to keep the photos' location, emergency
// with the hotline, duplicate suggestions nearby; the tracking code on submission. "Theo dõi
// phản ánh" (#/portal?track=CODE): status, timeline, the agency's answer and evidence photos,
// and the rating once it is resolved. "Phản ánh của tôi" (#/portal?mine=1): a citizen signs in
// or registers, sees the reports they sent or follow, and — while the portal is open — gets a
// notice (aria-live) whenever one of them moves on.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t, tOr, fmtDateTime, fmtNum, lang } from '../lib/i18n';
import type { Key } from '../lib/strings';
import { api, ApiError } from '../lib/api';
import { session, me, login, logout, expired } from '../lib/session';
import { current, go } from '../lib/router';
import { subscribedTopics } from '../lib/live';
import { LangSwitch } from '../components/Layout';
import { ErrorLine, errorText } from '../components/ErrorLine';
import { CityMap } from '../map/CityMap';
import {
  registerCitizen,
  loadMyReports,
  myReports,
  myReportsError,
  notices,
  dismissNotice,
  followNotices,
  type MyReport,
} from '../lib/citizen';
import {
  loadServices,
  serviceName,
  reportServiceName,
  statusLabel,
  resolutionLabel,
  REPORT_STATUSES,
  track,
  rate,
  duplicates,
  type ReportService,
  type CitizenReport,
  type Duplicate,
  type Question,
} from '../lib/reports';

const MAX_PHOTOS = 5;
const MAX_BYTES = 5 * 1024 * 1024;
const GROUPS = ['security', 'traffic', 'urban_order', 'sanitation', 'environment', 'infrastructure', 'emergency', 'other', 'redirect'];
const groupLabel = (g: string) => (GROUPS.includes(g) ? t(`rgroup.${g}` as Key) : g);
const kindLabel = (k: string) => tOr(`rkind.${k}`, k);

function problemText(e: unknown): unknown {
  if (e instanceof ApiError && e.status === 404) return new Error(t('portal.notFound'));
  return e;
}

/** JPEG (FF D8 FF) or PNG (89 50 4E 47), judged by content as the server does. */
async function isImage(f: File): Promise<boolean> {
  const b = new Uint8Array(await f.slice(0, 4).arrayBuffer());
  return (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47);
}

function useServices(): { services: ReportService[] | null; error: unknown } {
  const [services, setServices] = useState<ReportService[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => void loadServices().then(setServices, setError), []);
  return { services, error };
}

function CategoryPicker({ services, onPick }: { services: ReportService[]; onPick: (s: ReportService) => void }) {
  const groups = new Map<string, ReportService[]>();
  for (const s of services) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
  const order = [...groups.keys()].sort((a, b) => (GROUPS.indexOf(a) + 1 || 99) - (GROUPS.indexOf(b) + 1 || 99));
  return (
    <div class="categories" role="group" aria-labelledby="cat-h">
      <h2 id="cat-h">{t('portal.chooseCategory')}</h2>
      {order.map((g) => (
        <section key={g} class="cat-group" aria-label={groupLabel(g)}>
          <h3>{groupLabel(g)}</h3>
          <ul>
            {groups.get(g)!.map((s) => (
              <li key={s.code}>
                <button type="button" class={`cat ${s.handled ? '' : 'redirect'}`} data-service={s.code} onClick={() => onPick(s)}>
                  <b>{serviceName(s)}</b>
                  <small>{lang.value === 'en' && s.description_en ? s.description_en : s.description}</small>
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function QuestionField({ q }: { q: Question }) {
  const label = (lang.value === 'en' && q.description_en) || q.description || q.code;
  const name = `attribute[${q.code}]`;
  const opt = !q.required && <small> {t('portal.optional')}</small>;
  if (q.values.length > 0) {
    return (
      <label>
        {label}
        {opt}
        <select name={name} required={q.required}>
          <option value="">—</option>
          {q.values.map((v) => (
            <option key={v.key} value={v.key}>
              {v.name}
            </option>
          ))}
        </select>
      </label>
    );
  }
  return (
    <label>
      {label}
      {opt}
      {q.datatype === 'text' ? (
        <textarea name={name} required={q.required} rows={2} />
      ) : (
        <input name={name} required={q.required} type={q.datatype === 'number' ? 'number' : q.datatype === 'datetime' ? 'datetime-local' : 'text'} step="any" inputMode={q.datatype === 'number' ? 'decimal' : undefined} />
      )}
    </label>
  );
}

interface Picked {
  file: File;
  url: string;
}

function Photos({ photos, setPhotos }: { photos: Picked[]; setPhotos: (p: Picked[]) => void }) {
  const [problems, setProblems] = useState<string[]>([]);
  const input = useRef<HTMLInputElement>(null);
  const add = async (files: FileList | null) => {
    const out = [...photos];
    const errs: string[] = [];
    for (const f of Array.from(files ?? [])) {
      if (out.length >= MAX_PHOTOS) {
        errs.push(t('portal.tooMany'));
        break;
      }
      if (!(await isImage(f))) errs.push(t('portal.badType', { name: f.name }));
      else if (f.size > MAX_BYTES) errs.push(t('portal.tooBig', { name: f.name }));
      else out.push({ file: f, url: URL.createObjectURL(f) });
    }
    setProblems(errs);
    setPhotos(out);
    if (input.current) input.current.value = '';
  };
  const remove = (i: number) => {
    URL.revokeObjectURL(photos[i]!.url);
    setPhotos(photos.filter((_, n) => n !== i));
  };
  return (
    <fieldset class="photos">
      <legend>{t('portal.photos')}</legend>
      <p class="hint" id="photos-hint">
        {t('portal.photosHint')}
      </p>
      {photos.length > 0 && (
        <ul class="thumbs">
          {photos.map((p, i) => (
            <li key={p.url}>
              <img src={p.url} alt={t('portal.photo', { n: i + 1 })} />
              <button type="button" class="remove" onClick={() => remove(i)} aria-label={t('portal.removePhoto', { n: i + 1 })}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {photos.length < MAX_PHOTOS && (
        <label class="file">
          {t('portal.addPhotos')}
          <input ref={input} type="file" accept="image/jpeg,image/png" multiple aria-describedby="photos-hint" onChange={(e) => void add((e.currentTarget as HTMLInputElement).files)} />
        </label>
      )}
      {problems.map((p) => (
        <p class="error" role="alert" key={p}>
          {p}
        </p>
      ))}
    </fieldset>
  );
}

function Duplicates({ items }: { items: Duplicate[] }) {
  const [followed, setFollowed] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const signedIn = !!session.value;
  const follow = async (id: string) => {
    setError(null);
    try {
      await api(`/api/v1/reports/${encodeURIComponent(id)}/follow`, { method: 'POST' });
      setFollowed(new Set([...followed, id]));
      void loadMyReports();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="duplicates notice" aria-labelledby="dup-h" data-testid="duplicates">
      <h3 id="dup-h">{t('portal.dupTitle')}</h3>
      <p class="hint">{t('portal.dupHint')}</p>
      <ul>
        {items.map((d) => (
          <li key={d.id}>
            <span class="dup-text">{d.description || d.id}</span>
            <small>
              {statusLabel(d.status)} · {t('portal.dupDistance', { m: fmtNum(d.distance_m, 0) })} · {fmtDateTime(d.created_at)}
              {d.followers > 0 && ` · ${t('portal.dupFollowers', { n: d.followers })}`}
            </small>
            {followed.has(d.id) ? (
              <small class="ok">{t('portal.dupFollowed')}</small>
            ) : (
              signedIn && (
                <button type="button" onClick={() => void follow(d.id)}>
                  {t('portal.dupFollow')}
                </button>
              )
            )}
          </li>
        ))}
      </ul>
      {!signedIn && <p class="hint">{t('portal.dupFollowLogin')}</p>}
      <ErrorLine error={error} />
    </section>
  );
}

function Sent({ r, onAgain }: { r: CitizenReport; onAgain: () => void }) {
  const [copied, setCopied] = useState(false);
  const code = r.tracking_code ?? '';
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(code);
    } catch {
      // No clipboard permission (http, old browsers): select the code so the user can copy it.
      const sel = getSelection();
      const el = document.getElementById('tracking-code');
      if (sel && el) sel.selectAllChildren(el);
    }
    setCopied(true);
  };
  return (
    <section class="sent" aria-labelledby="sent-h" role="status">
      <h1 id="sent-h">{t('portal.sentTitle')}</h1>
      {r.hotline && (
        <p class="notice emergency">
          {t('portal.emergencyCall', { n: r.hotline })} <a href={`tel:${r.hotline}`}>{t('portal.callNow', { n: r.hotline })}</a>
        </p>
      )}
      <p>{t('portal.sentCode')}</p>
      <p class="tracking-code" id="tracking-code" data-testid="tracking-code">
        {code}
      </p>
      <div class="row">
        <button type="button" onClick={() => void copy()}>
          {copied ? t('portal.copied') : t('portal.copy')}
        </button>
        <a class="button primary" href={`#/portal?track=${encodeURIComponent(code)}`}>
          {t('portal.followNow')}
        </a>
      </div>
      <p class="hint">{t('portal.sentKeep')}</p>
      {me.value && (
        <p class="hint">
          <a href="#/portal?mine=1">{t('portal.sentMine')}</a>
        </p>
      )}
      <p>
        {r.service_name} · {r.id}
      </p>
      <button type="button" class="link" onClick={onAgain}>
        {t('portal.another')}
      </button>
    </section>
  );
}

function Submit() {
  const { services, error: loadError } = useServices();
  const [service, setService] = useState<ReportService | null>(null);
  const [pin, setPin] = useState<[number, number] | null>(null);
  const [emergency, setEmergency] = useState(false);
  const [photos, setPhotos] = useState<Picked[]>([]);
  const [dups, setDups] = useState<Duplicate[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<CitizenReport | null>(null);

  // Open reports of the same category near the pin, while the citizen writes.
  useEffect(() => {
    setDups([]);
    if (!service?.handled || !pin) return;
    const ctl = new AbortController();
    const timer = window.setTimeout(() => {
      duplicates(service.code, pin[0], pin[1], ctl.signal).then(setDups, () => undefined);
    }, 300);
    return () => {
      window.clearTimeout(timer);
      ctl.abort();
    };
  }, [service?.code, pin?.[0], pin?.[1]]);

  const locate = () => {
    setError(null);
    navigator.geolocation?.getCurrentPosition(
      (p) => setPin([p.coords.latitude, p.coords.longitude]),
      () => setError(new Error(t('portal.gpsFailed'))),
      { enableHighAccuracy: true, timeout: 15000 },
    );
  };

  const reset = () => {
    photos.forEach((p) => URL.revokeObjectURL(p.url));
    setPhotos([]);
    setPin(null);
    setService(null);
    setEmergency(false);
    setSent(null);
    setError(null);
  };

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (!service) return;
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const description = String(f.get('description') ?? '').trim();
    const address = String(f.get('address') ?? '').trim();
    if (!pin && !address) return setError(new Error(t('portal.needPlace')));
    if (!description && photos.length === 0) return setError(new Error(t('portal.needText')));
    const body = new FormData();
    body.set('service_code', service.code);
    body.set('description', description);
    if (pin) {
      body.set('lat', pin[0].toFixed(6));
      body.set('long', pin[1].toFixed(6));
    }
    body.set('address', address);
    body.set('emergency', emergency ? 'true' : 'false');
    body.set('keep_location', f.get('keep_location') === 'on' ? 'true' : 'false');
    for (const q of service.questions) {
      const v = String(f.get(`attribute[${q.code}]`) ?? '').trim();
      if (v) body.set(`attribute[${q.code}]`, v);
    }
    for (const k of ['name', 'phone', 'email']) {
      const v = String(f.get(k) ?? '').trim();
      if (v) body.set(k, v);
    }
    photos.forEach((p, i) => body.append('photo', p.file, p.file.name || `photo-${i + 1}`));
    setBusy(true);
    setError(null);
    try {
      const r = await api<CitizenReport>('/api/v1/reports', { method: 'POST', body, anonymous: !session.value });
      photos.forEach((p) => URL.revokeObjectURL(p.url));
      setPhotos([]);
      setSent(r);
      if (session.value) void loadMyReports();
      window.scrollTo(0, 0);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (sent) return <Sent r={sent} onAgain={reset} />;
  const hotline = service?.hotline || '112';
  return (
    <div class="portal-submit">
      <h1 id="portal-h">{t('portal.title')}</h1>
      <p>{t('portal.intro')}</p>
      <ErrorLine error={loadError} />
      {services && !service && <CategoryPicker services={services} onPick={(s) => (setService(s), setError(null))} />}
      {service && (
        <div class="chosen">
          <p class="chosen-name">
            <b data-testid="chosen-service">{serviceName(service)}</b>
            <button type="button" class="link" onClick={() => setService(null)}>
              {t('portal.change')}
            </button>
          </p>
          {service.handled && <small>{t('portal.sla', { n: service.sla_working_days })}</small>}
          {service.hotline && (
            <small>
              {' · '}
              <a href={`tel:${service.hotline}`}>{t('portal.hotline', { n: service.hotline })}</a>
            </small>
          )}
        </div>
      )}
      {service && !service.handled && (
        <div class="notice redirect" role="note" data-testid="redirect">
          <p>{t('portal.notHandled')}</p>
          <p>
            <b>{t('portal.goInstead')}</b> {(lang.value === 'en' && service.redirect_en) || service.redirect}
          </p>
        </div>
      )}
      {service?.handled && (
        <form class="portal-form" onSubmit={onSubmit} aria-labelledby="portal-h" noValidate={false}>
          <label class="check toggle">
            <input type="checkbox" checked={emergency} onChange={() => setEmergency((v) => !v)} />
            {t('portal.emergency')}
          </label>
          {emergency && (
            <p class="notice emergency" role="alert">
              {t('portal.emergencyCall', { n: hotline })}{' '}
              <a class="button danger" href={`tel:${hotline}`}>
                {t('portal.callNow', { n: hotline })}
              </a>
            </p>
          )}
          <label>
            {t('portal.description')}
            <textarea name="description" maxLength={4000} rows={4} aria-describedby="desc-hint" />
          </label>
          <p class="hint" id="desc-hint">
            {t('portal.descriptionHint')}
          </p>
          <fieldset>
            <legend>{t('portal.where')}</legend>
            <p class="hint">{t('portal.location')}</p>
            <CityMap onPick={(lat, lon) => setPin([lat, lon])} pin={pin} focus={pin} label={t('portal.map')} class="portal-map" />
            <div class="row">
              {pin ? (
                <p class="hint" data-testid="pin">
                  {t('portal.pin', { lat: pin[0].toFixed(5), lon: pin[1].toFixed(5) })}
                </p>
              ) : (
                <span />
              )}
              {'geolocation' in navigator && (
                <button type="button" onClick={locate}>
                  {t('portal.useGps')}
                </button>
              )}
            </div>
            <label>
              {t('portal.address')}
              <input name="address" autoComplete="street-address" maxLength={500} />
            </label>
          </fieldset>
          {dups.length > 0 && <Duplicates items={dups} />}
          {service.questions.length > 0 && (
            <fieldset>
              <legend>{t('ops.attributes')}</legend>
              {[...service.questions].sort((a, b) => a.order - b.order).map((q) => (
                <QuestionField q={q} key={q.code} />
              ))}
            </fieldset>
          )}
          <Photos photos={photos} setPhotos={setPhotos} />
          <label class="check">
            <input type="checkbox" name="keep_location" />
            {t('portal.keepLocation')}
          </label>
          <p class="hint">{t('portal.keepLocationHint')}</p>
          <details class="contact">
            <summary>{t('portal.contact')}</summary>
            <label>
              {t('portal.name')}
              <input name="name" autoComplete="name" maxLength={200} />
            </label>
            <label>
              {t('portal.phone')}
              <input name="phone" type="tel" autoComplete="tel" maxLength={200} />
            </label>
            <label>
              {t('portal.email')}
              <input name="email" type="email" autoComplete="email" maxLength={200} />
            </label>
          </details>
          <ErrorLine error={error} />
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t('portal.sending') : t('portal.submit')}
          </button>
        </form>
      )}
    </div>
  );
}

function Stars({ name }: { name: string }) {
  return (
    <fieldset class="stars">
      <legend>{t('portal.stars')}</legend>
      {[1, 2, 3, 4, 5].map((n) => (
        <label key={n} title={t('portal.star', { n })}>
          <input type="radio" name={name} value={n} required aria-label={t('portal.star', { n })} />
          <span aria-hidden="true">★</span>
        </label>
      ))}
    </fieldset>
  );
}

function RateForm({ code, onDone }: { code: string; onDone: (r: CitizenReport) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      const comment = String(f.get('comment') ?? '').trim();
      onDone(await rate(code, { rating: Number(f.get('rating')), fixed: f.get('fixed') === 'yes', ...(comment ? { comment } : {}) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="rating" onSubmit={submit} aria-labelledby="rate-h">
      <h3 id="rate-h">{t('portal.rate')}</h3>
      <Stars name="rating" />
      <fieldset class="yesno">
        <legend>{t('portal.fixedQ')}</legend>
        <label class="check">
          <input type="radio" name="fixed" value="yes" required />
          {t('portal.yes')}
        </label>
        <label class="check">
          <input type="radio" name="fixed" value="no" />
          {t('portal.no')}
        </label>
      </fieldset>
      <p class="hint">{t('portal.noReopens')}</p>
      <label>
        {t('portal.comment')} <small>{t('portal.optional')}</small>
        <textarea name="comment" rows={2} maxLength={1000} />
      </label>
      <ErrorLine error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {t('portal.sendRating')}
      </button>
    </form>
  );
}

/** May the citizen rate now: resolved, and not rated since the last resolution. */
function rateable(r: CitizenReport): boolean {
  if (!r.can_rate) return false;
  const kinds = r.timeline.map((u) => u.kind);
  return kinds.lastIndexOf('resolved') > kinds.lastIndexOf('rated');
}

function Tracked({ r, code, onChange }: { r: CitizenReport; code: string; onChange: (r: CitizenReport) => void }) {
  const [thanks, setThanks] = useState(false);
  const photo = (n: number) => r.photos.find((p) => p.n === n);
  const citizen = r.photos.filter((p) => p.source === 'citizen' && p.url);
  const evidence = r.photos.filter((p) => p.source === 'agency' && p.url);
  return (
    <article class="tracked" aria-labelledby="tracked-h" data-report-id={r.id}>
      <p class={`pill rst-${r.status}`} data-testid="report-status">
        {statusLabel(r.status)}
        {r.resolution && ` · ${resolutionLabel(r.resolution)}`}
        {r.overdue && ` · ${t('portal.overdue')}`}
      </p>
      <h2 id="tracked-h">
        {r.service_name} <small>{r.id}</small>
      </h2>
      {r.description && <p class="desc">{r.description}</p>}
      <dl class="attrs">
        {r.address && (
          <div>
            <dt>{t('portal.where')}</dt>
            <dd>{r.address}</dd>
          </div>
        )}
        <div>
          <dt>{t('portal.received')}</dt>
          <dd>{fmtDateTime(r.created_at)}</dd>
        </div>
        <div>
          <dt>{t('portal.due')}</dt>
          <dd>{fmtDateTime(r.due_at)}</dd>
        </div>
        {r.agency && (
          <div>
            <dt>{t('portal.agency')}</dt>
            <dd>{r.agency}</dd>
          </div>
        )}
      </dl>
      {r.agency_answer && (
        <section class="answer" aria-labelledby="answer-h">
          <h3 id="answer-h">{t('portal.answer')}</h3>
          <p data-testid="agency-answer">{r.agency_answer}</p>
          {r.resolution_reason && <p class="hint">{r.resolution_reason}</p>}
        </section>
      )}
      {evidence.length > 0 && (
        <section aria-labelledby="ev-h">
          <h3 id="ev-h">{t('portal.evidence')}</h3>
          <ul class="thumbs big">
            {evidence.map((p) => (
              <li key={p.n}>
                <a href={p.url!} target="_blank" rel="noopener">
                  <img src={p.url!} alt={t('portal.photo', { n: p.n })} loading="lazy" />
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
      {rateable(r) && !thanks && (
        <RateForm
          code={code}
          onDone={(next) => {
            setThanks(true);
            // The rate answer is the public view without can_rate; read the page again.
            void track(code).then(onChange, () => onChange({ ...next, can_rate: false }));
          }}
        />
      )}
      {thanks && (
        <p class="notice ok" role="status">
          {t('portal.thanks')}
        </p>
      )}
      {!rateable(r) && r.rating != null && <p class="hint">{t('portal.ratedAs', { n: r.rating })}</p>}
      <h3>{t('portal.timeline')}</h3>
      <ol class="timeline report-timeline" reversed>
        {[...r.timeline].reverse().map((u) => (
          <li key={u.update_id} class={`k-${u.kind}`}>
            <time>{fmtDateTime(u.at)}</time> <b>{kindLabel(u.kind)}</b> · {statusLabel(u.status)}
            {u.text && <q>{u.text}</q>}
            {u.photos.length > 0 && (
              <span class="thumbs inline">
                {u.photos.map((n) => {
                  const p = photo(n);
                  return p?.url ? <img key={n} src={p.url} alt={t('portal.photo', { n })} loading="lazy" /> : null;
                })}
              </span>
            )}
          </li>
        ))}
      </ol>
      {citizen.length > 0 && (
        <section aria-labelledby="cp-h">
          <h3 id="cp-h">{t('portal.yourPhotos')}</h3>
          <ul class="thumbs">
            {citizen.map((p) => (
              <li key={p.n}>
                <img src={p.url!} alt={t('portal.photo', { n: p.n })} loading="lazy" />
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}

// The status page follows its report live (Server-Sent Events; the tracking code is the key,
// no account needed); EventSource reconnects by itself, and each reconnect reloads the page's
// state so nothing missed while offline stays missing.
function useTrackingStream(code: string, onReport: (r: CitizenReport) => void): boolean {
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (!code || typeof EventSource === 'undefined') return undefined;
    const source = new EventSource(`/api/v1/reports/track/${encodeURIComponent(code)}/stream`);
    let opened = false;
    source.onopen = () => {
      setOpen(true);
      if (opened) void track(code).then(onReport, () => undefined);
      opened = true;
    };
    source.onerror = () => setOpen(false);
    source.addEventListener('tracking', (ev) => {
      try {
        const msg = JSON.parse((ev as MessageEvent<string>).data) as { data?: CitizenReport };
        if (msg.data?.id) onReport(msg.data);
      } catch {
        // a malformed message is skipped; the next one carries the whole state again
      }
    });
    return () => {
      source.close();
      setOpen(false);
    };
  }, [code]);
  return open;
}

function Track() {
  const code = current.value.params.get('track') ?? '';
  const [item, setItem] = useState<CitizenReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const load = async (c: string) => {
    setError(null);
    setBusy(true);
    try {
      setItem(await track(c));
    } catch (err) {
      setItem(null);
      setError(problemText(err));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (code) void load(code);
    else setItem(null);
  }, [code]);
  const live = useTrackingStream(item ? code : '', setItem);
  const find = (e: Event) => {
    e.preventDefault();
    const c = String(new FormData(e.currentTarget as HTMLFormElement).get('code') ?? '').trim();
    if (!c) return;
    if (c === code) void load(c);
    else go('portal', { track: c });
  };
  return (
    <section class="portal-track" aria-labelledby="track-h">
      <h1 id="track-h">{t('portal.navTrack')}</h1>
      <form onSubmit={find} class="row">
        <label>
          {t('portal.code')}
          <input name="code" required value={code} autoCapitalize="characters" autoComplete="off" spellcheck={false} />
        </label>
        <button type="submit" disabled={busy}>
          {t('portal.find')}
        </button>
      </form>
      <ErrorLine error={error} />
      {item && (
        <p class={`live-note ${live ? 'on' : ''}`} data-testid="tracking-live" aria-live="polite">
          {live ? t('portal.liveOn') : t('portal.liveOff')}
        </p>
      )}
      {item && <Tracked r={item} code={code} onChange={setItem} key={item.id} />}
    </section>
  );
}

function SignIn() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await login(String(f.get('username') ?? '').trim(), String(f.get('password') ?? ''), f.get('remember') === 'on');
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? t('login.bad') : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="account-form" onSubmit={submit} aria-labelledby="signin-h">
      <h2 id="signin-h">{t('mine.signInTitle')}</h2>
      <label>
        {t('login.username')}
        <input name="username" autoComplete="username" autoCapitalize="none" spellcheck={false} required />
      </label>
      <label>
        {t('login.password')}
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      <label class="check">
        <input type="checkbox" name="remember" />
        {t('mine.remember')}
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? t('login.busy') : t('mine.signIn')}
      </button>
    </form>
  );
}

function Register() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const username = String(f.get('username') ?? '').trim();
    const password = String(f.get('password') ?? '');
    if (password !== String(f.get('password2') ?? '')) return setError(t('mine.mismatch'));
    setBusy(true);
    setError(null);
    try {
      await registerCitizen(username, password, f.get('remember') === 'on');
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? t('mine.taken') : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="account-form" onSubmit={submit} aria-labelledby="register-h">
      <h2 id="register-h">{t('mine.registerTitle')}</h2>
      <label>
        {t('login.username')}
        <input
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellcheck={false}
          required
          minLength={3}
          maxLength={64}
          pattern="[a-z0-9._\-]{3,64}"
          aria-describedby="reg-user-hint"
        />
      </label>
      <p class="hint" id="reg-user-hint">
        {t('mine.usernameHint')}
      </p>
      <label>
        {t('login.password')}
        <input name="password" type="password" autoComplete="new-password" required minLength={10} maxLength={1024} aria-describedby="reg-pass-hint" />
      </label>
      <p class="hint" id="reg-pass-hint">
        {t('mine.passwordHint')}
      </p>
      <label>
        {t('mine.password2')}
        <input name="password2" type="password" autoComplete="new-password" required minLength={10} maxLength={1024} />
      </label>
      <label class="check">
        <input type="checkbox" name="remember" />
        {t('mine.remember')}
      </label>
      <p class="hint">{t('mine.unitNote')}</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? t('mine.registering') : t('mine.register')}
      </button>
    </form>
  );
}

/** Not signed in: why an account helps, and the sign-in or registration form. */
function Account() {
  const [mode, setMode] = useState<'signin' | 'register'>('signin');
  return (
    <div class="account" data-testid="mine-invite">
      <p>{t('mine.invite')}</p>
      <p class="hint">{t('mine.noAccountNeeded')}</p>
      {expired.value && <p class="notice">{t('login.expired')}</p>}
      <div class="row switch" role="group" aria-label={t('mine.chooseForm')}>
        <button type="button" aria-pressed={mode === 'signin'} onClick={() => setMode('signin')}>
          {t('mine.haveAccount')}
        </button>
        <button type="button" aria-pressed={mode === 'register'} onClick={() => setMode('register')}>
          {t('mine.newAccount')}
        </button>
      </div>
      {mode === 'signin' ? <SignIn /> : <Register />}
    </div>
  );
}

function MineItem({ r, highlight }: { r: MyReport; highlight: boolean }) {
  const ref = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (highlight) ref.current?.scrollIntoView({ block: 'center' });
  }, [highlight]);
  return (
    <li ref={ref} class={`mine-item ${highlight ? 'highlight' : ''}`} data-report-id={r.id}>
      <p class="mine-head">
        <span class={`pill rst-${r.status}`} data-testid="mine-status">
          {statusLabel(r.status)}
          {r.resolution && ` · ${resolutionLabel(r.resolution)}`}
        </span>
        {r.overdue && (
          <span class="pill overdue" data-testid="mine-overdue">
            {t('portal.overdue')}
          </span>
        )}
        <span class={`relation rel-${r.relation}`} data-testid="mine-relation">
          {t(r.relation === 'reporter' ? 'mine.rel.reporter' : 'mine.rel.follower')}
        </span>
      </p>
      <h2 id={`mine-${r.id}`}>
        {reportServiceName(r)} <small>{r.id}</small>
      </h2>
      {r.description && <p class="desc">{r.description}</p>}
      <p class="hint">
        <time dateTime={r.updated_at}>{t('mine.updated', { time: fmtDateTime(r.updated_at) })}</time>
        {r.due_at && r.status !== 'resolved' && r.status !== 'closed' && ` · ${t('portal.due')}: ${fmtDateTime(r.due_at)}`}
        {r.agency && ` · ${t('portal.agency')}: ${r.agency}`}
      </p>
      {r.agency_answer && <p class="answer-short">{r.agency_answer}</p>}
      {r.relation === 'reporter' && r.tracking_code ? (
        <a class="button" href={`#/portal?track=${encodeURIComponent(r.tracking_code)}`} aria-describedby={`mine-${r.id}`}>
          {t('mine.view')}
        </a>
      ) : (
        <p class="hint">{t('mine.followerHint')}</p>
      )}
    </li>
  );
}

function Mine() {
  const who = me.value;
  const citizen = who?.role === 'citizen';
  const heading = useRef<HTMLHeadingElement>(null);
  const wasSignedIn = useRef(!!who);
  const highlight = current.value.params.get('report') ?? '';
  useEffect(() => {
    if (!who) return;
    void loadMyReports();
    // Just signed in here: the form is gone, so bring focus back to the page's heading.
    if (!wasSignedIn.current) heading.current?.focus();
    wasSignedIn.current = true;
  }, [who?.id]);
  const items = myReports.value;
  const live = subscribedTopics.value.has('notifications');
  return (
    <section class="portal-mine" aria-labelledby="mine-h">
      <h1 id="mine-h" ref={heading} tabIndex={-1}>
        {t('mine.title')}
      </h1>
      {!who ? (
        <Account />
      ) : (
        <>
          <p class="row account-line">
            <span>{t('mine.signedInAs', { name: who.name })}</span>
            <button type="button" class="link" onClick={() => void logout()}>
              {t('mine.signOut')}
            </button>
          </p>
          <p>{t('mine.intro')}</p>
          {citizen && (
            <p class={`live-note ${live ? 'on' : ''}`} data-testid="mine-live">
              {live ? t('mine.liveOn') : t('mine.liveOff')}
            </p>
          )}
          <ErrorLine error={myReportsError.value} />
          {items === null && !myReportsError.value && <p class="loading">{t('loading')}</p>}
          {items && items.length === 0 && <p data-testid="mine-empty">{t('mine.empty')}</p>}
          {items && items.length > 0 && (
            <ul class="mine-list" data-testid="mine-list">
              {items.map((r) => (
                <MineItem r={r} key={r.id} highlight={r.id === highlight} />
              ))}
            </ul>
          )}
          {items && (
            <button type="button" onClick={() => void loadMyReports()}>
              {t('refresh')}
            </button>
          )}
        </>
      )}
    </section>
  );
}

/** Live notices about the citizen's reports: a polite live region, each with a link to the report. */
function Notices() {
  const list = notices.value;
  const items = myReports.value ?? [];
  return (
    <div class="toasts" role="status" aria-live="polite" aria-label={t('notice.region')} data-testid="notices">
      {list.map((n) => {
        const known = items.find((r) => r.id === n.reportId);
        const href = known?.tracking_code ? `#/portal?track=${encodeURIComponent(known.tracking_code)}` : `#/portal?mine=1&report=${encodeURIComponent(n.reportId)}`;
        const status = (REPORT_STATUSES as string[]).includes(n.status) ? statusLabel(n.status) : '';
        return (
          <div class="toast" key={n.n} data-testid="notice" data-report-id={n.reportId}>
            <p class="toast-title">
              <b>{status ? t('notice.title', { id: n.reportId, status }) : n.title || n.reportId}</b>
            </p>
            {known && (
              <p class="toast-body">
                {reportServiceName(known)}
                {known.agency_answer && ` — ${known.agency_answer}`}
              </p>
            )}
            <p class="row">
              <a href={href} onClick={() => dismissNotice(n.n)}>
                {t('notice.open')}
              </a>
              <button type="button" class="toast-close" onClick={() => dismissNotice(n.n)} aria-label={t('notice.dismiss')}>
                ×
              </button>
            </p>
          </div>
        );
      })}
    </div>
  );
}

export function Portal() {
  const params = current.value.params;
  const tracking = params.has('track');
  const mine = !tracking && params.has('mine');
  const who = me.value;
  const citizen = who?.role === 'citizen';
  const title = useMemo(() => (tracking ? t('portal.navTrack') : mine ? t('mine.title') : t('portal.title')), [tracking, mine, lang.value]);
  useEffect(() => {
    document.title = `${title} · CityIOC`;
  }, [title]);
  // A signed-in citizen hears about their reports on every tab of the portal.
  useEffect(() => (citizen ? followNotices() : undefined), [citizen, who?.id]);
  useEffect(() => {
    if (!who) myReports.value = null;
  }, [who?.id]);
  return (
    <div class="portal">
      <header class="portal-top">
        <a href="#/portal" class="brand">
          {t('cityName')} · {t('portal.nav')}
        </a>
        <LangSwitch />
      </header>
      <nav class="portal-tabs" aria-label={t('portal.nav')}>
        <a href="#/portal" aria-current={!tracking && !mine ? 'page' : undefined}>
          {t('portal.navReport')}
        </a>
        <a href="#/portal?track=" aria-current={tracking ? 'page' : undefined}>
          {t('portal.navTrack')}
        </a>
        <a href="#/portal?mine=1" aria-current={mine ? 'page' : undefined}>
          {t('portal.navMine')}
        </a>
      </nav>
      <main id="main">{tracking ? <Track /> : mine ? <Mine /> : <Submit />}</main>
      {citizen && <Notices />}
    </div>
  );
}
