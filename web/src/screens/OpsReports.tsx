// Citizen reports on the operations console: a triage board (GET /api/v1/reports?sort=triage,
// live through the `reports` topic) and the chosen report with its workflow actions (triage,
// assign, start, resolve, close, comment, escalate to an incident, evidence photo), its internal
// timeline, and — for IOC staff with reports:identity only — the reporter behind an explicit,
// audited button.
import { useEffect, useState } from 'preact/hooks';
import { t, tOr, fmtDateTime, fmtNum } from '../lib/i18n';
import { current, go } from '../lib/router';
import { can } from '../lib/session';
import { api } from '../lib/api';
import { lastEventAt } from '../lib/live';
import { Widget } from '../components/Fresh';
import { ErrorLine } from '../components/ErrorLine';
import { statusLabel, resolutionLabel, loadServices, serviceName, type CitizenReport, type ReportService } from '../lib/reports';
import { loadWards } from '../map/wards';
import { lang } from '../lib/i18n';
import { openReports, reportsLoadedAt, reportAction, getReport, upsertReport, useReportFeed } from '../stores/reports';

function ReportCard({ r }: { r: CitizenReport }) {
  const selected = current.value.params.get('report') === r.id;
  return (
    <li>
      <a
        class={`card report ${r.emergency ? 'prio-critical' : r.overdue ? 'prio-high' : 'prio-low'} ${selected ? 'selected' : ''}`}
        href={`#/ops?report=${encodeURIComponent(r.id)}`}
        aria-current={selected ? 'true' : undefined}
        data-report-id={r.id}
      >
        <span class="card-sev">
          {r.service_name}
          {r.emergency && ` · ${t('portal.emergency')}`}
        </span>
        <span class="card-title">{r.description || r.address || r.id}</span>
        <span class="card-meta">
          {r.id} · {statusLabel(r.status)}
          {r.agency && ` · ${r.agency}`}
          {r.due_at && ` · ${t('ops.due')} ${fmtDateTime(r.due_at)}`}
        </span>
      </a>
    </li>
  );
}

function Col({ title, items }: { title: string; items: CitizenReport[] }) {
  return (
    <section class="column" aria-label={title}>
      <h3>
        {title} <span class="count">{fmtNum(items.length, 0)}</span>
      </h3>
      <ul class="cards">
        {items.slice(0, 100).map((r) => (
          <ReportCard r={r} key={r.id} />
        ))}
      </ul>
      {items.length === 0 && <p class="hint">{t('ops.empty')}</p>}
    </section>
  );
}

export function ReportBoard() {
  useReportFeed();
  if (!can('reports:read')) return null;
  const all = openReports.value;
  const overdue = all.filter((r) => r.overdue);
  const rest = all.filter((r) => !r.overdue);
  return (
    <Widget title={t('ops.reports')} at={Math.max(reportsLoadedAt.value, lastEventAt.value.reports ?? 0)} id="board-reports">
      <div class="board">
        <Col title={t('ops.col.new')} items={rest.filter((r) => r.status === 'new')} />
        <Col title={t('ops.col.triaged')} items={rest.filter((r) => r.status === 'triaged')} />
        <Col title={t('ops.col.working')} items={rest.filter((r) => r.status === 'assigned' || r.status === 'in_progress')} />
        <Col title={t('ops.col.overdue')} items={overdue} />
      </div>
    </Widget>
  );
}

function Reporter({ id }: { id: string }) {
  const [who, setWho] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<unknown>(null);
  if (!can('reports:identity')) return null;
  if (who) {
    return (
      <dl class="attrs reporter" data-testid="reporter">
        {who.anonymous ? (
          <div>
            <dt>{t('ops.reporter')}</dt>
            <dd>{t('ops.anonymous')}</dd>
          </div>
        ) : (
          (['name', 'phone', 'email', 'user_id'] as const).map((k) =>
            who[k] ? (
              <div key={k}>
                <dt>{k === 'user_id' ? 'ID' : t(`portal.${k}`)}</dt>
                <dd>{String(who[k])}</dd>
              </div>
            ) : null,
          )
        )}
      </dl>
    );
  }
  return (
    <p>
      <button type="button" onClick={() => api<Record<string, unknown>>(`/api/v1/reports/${encodeURIComponent(id)}/reporter`).then(setWho, setError)}>
        {t('ops.reporter')}
      </button>{' '}
      <small class="hint">{t('ops.reporterAudited')}</small>
      <ErrorLine error={error} />
    </p>
  );
}

export function ReportDetail({ id }: { id: string }) {
  const live = openReports.value.find((r) => r.id === id);
  const [r, setR] = useState<CitizenReport | null>(null);
  const [services, setServices] = useState<ReportService[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');
  const [agency, setAgency] = useState('');
  const [resolution, setResolution] = useState('fixed');
  const [answer, setAnswer] = useState('');
  const [reason, setReason] = useState('');
  const [dupOf, setDupOf] = useState('');
  const [pub, setPub] = useState(false);
  useEffect(() => {
    getReport(id).then(setR, setLoadError);
  }, [id, live?.updated_at]);
  const [wards, setWards] = useState<Map<string, [string, string]>>(new Map());
  useEffect(() => void loadServices().then(setServices, () => undefined), []);
  useEffect(() => void loadWards().then((w) => setWards(new Map(w.features.map((f) => [f.properties.code, [f.properties.fullName, f.properties.fullNameEn]]))), () => undefined), []);
  const wardName = (code: string) => wards.get(code)?.[lang.value === 'en' ? 1 : 0] ?? `${t('ops.ward')} ${code}`;
  if (!r) return loadError ? <ErrorLine error={loadError} /> : <p class="hint">{t('loading')}</p>;
  const manage = can('reports:manage');
  const run = async (fn: () => Promise<CitizenReport>) => {
    setBusy(true);
    setError(null);
    try {
      setR(await fn());
      setNote('');
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const act = (action: string, body: Record<string, unknown> = {}) => run(() => reportAction(r.id, action, body));
  const escalate = () =>
    run(async () => {
      const out = await api<{ report: CitizenReport; incident: { id: string } }>(`/api/v1/reports/${encodeURIComponent(r.id)}/escalate`, { method: 'POST', json: {} });
      upsertReport(out.report);
      return out.report;
    });
  const evidence = (f: File | undefined) =>
    f &&
    run(async () => {
      await api(`/api/v1/reports/${encodeURIComponent(r.id)}/evidence`, { method: 'POST', body: f, headers: { 'Content-Type': f.type || 'image/jpeg' } });
      return getReport(r.id);
    });
  const open = r.status !== 'resolved' && r.status !== 'closed';
  const svc = services.find((s) => s.code === r.service_code);
  const attrs = Object.entries(r.attributes ?? {});
  return (
    <article class="detail" aria-labelledby="detail-h" data-report={r.id}>
      <p class={`pill ${r.emergency ? 'prio-critical' : 'prio-medium'}`} data-testid="report-status">
        {statusLabel(r.status)}
        {r.resolution && ` · ${resolutionLabel(r.resolution)}`}
        {r.overdue && ` · ${t('portal.overdue')}`}
        {r.emergency && ` · ${t('portal.emergency')}`}
      </p>
      <h2 id="detail-h">
        {svc ? serviceName(svc) : r.service_name} <small>{r.id}</small>
      </h2>
      {r.description && <p>{r.description}</p>}
      <dl class="attrs">
        <div>
          <dt>{t('portal.where')}</dt>
          <dd>
            {r.address || (r.location ? `${fmtNum(r.location.lat, 5)}, ${fmtNum(r.location.long, 5)}` : '—')}
            {r.ward_code && ` · ${wardName(r.ward_code)}`}
          </dd>
        </div>
        <div>
          <dt>{t('ops.agency')}</dt>
          <dd>{r.agency || '—'}</dd>
        </div>
        <div>
          <dt>{t('portal.received')}</dt>
          <dd>
            {fmtDateTime(r.created_at)} {r.channel && <small>({r.channel})</small>}
          </dd>
        </div>
        <div>
          <dt>{t('ops.due')}</dt>
          <dd>
            {fmtDateTime(r.due_at)}
            {r.sla_days ? ` · ${t('portal.sla', { n: r.sla_days })}` : ''}
          </dd>
        </div>
        {attrs.map(([k, v]) => {
          const q = svc?.questions.find((x) => x.code === k);
          const shown = q?.values.find((x) => x.key === v)?.name ?? (Array.isArray(v) ? v.join(', ') : String(v));
          return (
            <div key={k}>
              <dt>{q?.description ?? k}</dt>
              <dd>{shown}</dd>
            </div>
          );
        })}
        {r.incident_id && (
          <div>
            <dt>{t('ops.incident')}</dt>
            <dd>
              <a href={`#/ops?incident=${encodeURIComponent(r.incident_id)}`}>{r.incident_id}</a>
            </dd>
          </div>
        )}
        {r.rating != null && (
          <div>
            <dt>{t('portal.stars')}</dt>
            <dd>
              {'★'.repeat(r.rating)} {r.really_fixed === false && `· ${t('portal.no')}`}
            </dd>
          </div>
        )}
      </dl>
      {r.agency_answer && (
        <p class="notice">
          <b>{t('portal.answer')}:</b> {r.agency_answer}
        </p>
      )}
      {r.photos.some((p) => p.url) && (
        <ul class="thumbs">
          {r.photos
            .filter((p) => p.url)
            .map((p) => (
              <li key={p.n} class={p.source}>
                <a href={p.url!} target="_blank" rel="noopener">
                  <img src={p.url!} alt={`${t('portal.photo', { n: p.n })} (${p.source})`} loading="lazy" />
                </a>
              </li>
            ))}
        </ul>
      )}
      <Reporter id={r.id} />
      {manage && (
        <div class="actions report-actions">
          <label>
            {t('ops.note')}
            <input value={note} onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)} />
          </label>
          {r.status === 'new' && (
            <button type="button" class="primary" disabled={busy} onClick={() => act('triage', note ? { note } : {})}>
              {t('ops.triage')}
            </button>
          )}
          {(r.status === 'new' || r.status === 'triaged' || r.status === 'assigned' || r.status === 'in_progress') && (
            <>
              <label>
                {t('ops.agency')}
                <input value={agency} placeholder={r.agency} onInput={(e) => setAgency((e.currentTarget as HTMLInputElement).value)} />
              </label>
              {r.status === 'new' || r.status === 'triaged' ? (
                <button type="button" disabled={busy || (!agency && !r.agency)} onClick={() => act('assign', agency ? { agency } : {})}>
                  {t('ops.assign')}
                </button>
              ) : (
                <button type="button" disabled={busy || !agency || !note} onClick={() => act('reassign', { agency, reason: note })}>
                  {t('ops.assign')}
                </button>
              )}
            </>
          )}
          {r.status === 'assigned' && (
            <button type="button" disabled={busy} onClick={() => act('start', note ? { note } : {})}>
              {t('ops.start')}
            </button>
          )}
          {!r.incident_id && can('incidents:manage') && (
            <button type="button" disabled={busy} onClick={() => void escalate()}>
              {t('ops.escalateReport')}
            </button>
          )}
          <label class="check">
            <input type="checkbox" checked={pub} onChange={() => setPub((v) => !v)} />
            {t('ops.public')}
          </label>
          <button type="button" disabled={busy || !note} onClick={() => act('comment', { text: note, public: pub })}>
            {t('ops.comment')}
          </button>
          {r.status === 'resolved' && (
            <button type="button" disabled={busy} onClick={() => act('close', note ? { note } : {})}>
              {t('ops.close')}
            </button>
          )}
          {!open && (
            <button type="button" disabled={busy || !note} onClick={() => act('reopen', { reason: note })}>
              {tOr('rkind.reopened', 'Reopen')}
            </button>
          )}
        </div>
      )}
      {manage && open && (
        <form
          class="actions resolve-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act('resolve', { resolution, answer, ...(reason ? { reason } : {}), ...(resolution === 'duplicate' ? { duplicate_of: dupOf } : {}) }).then((ok) => ok && setAnswer(''));
          }}
        >
          <label>
            {t('ops.resolveAs')}
            <select value={resolution} onChange={(e) => setResolution((e.currentTarget as HTMLSelectElement).value)}>
              {['fixed', 'not_fixed', 'not_responsible', 'duplicate'].map((k) => (
                <option key={k} value={k}>
                  {resolutionLabel(k)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('ops.answer')}
            <textarea required rows={2} value={answer} onInput={(e) => setAnswer((e.currentTarget as HTMLTextAreaElement).value)} />
          </label>
          {(resolution === 'not_fixed' || resolution === 'not_responsible') && (
            <label>
              {t('ops.reason')}
              <input required value={reason} onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)} />
            </label>
          )}
          {resolution === 'duplicate' && (
            <label>
              {t('ops.duplicateOf')}
              <input required value={dupOf} onInput={(e) => setDupOf((e.currentTarget as HTMLInputElement).value)} />
            </label>
          )}
          <label class="file">
            {t('ops.evidence')}
            <input type="file" accept="image/jpeg,image/png" disabled={busy} onChange={(e) => void evidence((e.currentTarget as HTMLInputElement).files?.[0])} />
          </label>
          <button type="submit" class="primary" disabled={busy || !answer}>
            {t('ops.resolve')}
          </button>
        </form>
      )}
      <ErrorLine error={error} />
      <h3>{t('ops.timeline')}</h3>
      <ol class="timeline" reversed>
        {[...r.timeline].reverse().map((u) => (
          <li key={u.update_id} class={u.public === false ? 'internal' : ''}>
            <time>{fmtDateTime(u.at)}</time> <b>{tOr(`rkind.${u.kind}`, u.kind)}</b> · {statusLabel(u.status)}
            {u.actor && ` — ${u.actor}`}
            {u.public === false && <small> ({t('rkind.note')})</small>}
            {u.text && <q>{u.text}</q>}
          </li>
        ))}
      </ol>
      {r.incident_id && (
        <p>
          <button type="button" class="link" onClick={() => go('ops', { incident: r.incident_id! })}>
            {t('ops.incident')}: {r.incident_id}
          </button>
        </p>
      )}
    </article>
  );
}
