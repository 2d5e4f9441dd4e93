// Operations console: a triage board of alerts (new / claimed) and incidents (new / assigned /
// overdue) and citizen reports (new / triaged / being handled / overdue, OpsReports.tsx); the chosen card's details with its actions, SOP steps and timeline.
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { t, fmtDateTime, fmtNum, fmtTime } from '../lib/i18n';
import type { Key } from '../lib/strings';
import { current, go } from '../lib/router';
import { can } from '../lib/session';
import { lastEventAt } from '../lib/live';
import { categoryLabel } from '../lib/labels';
import { Widget } from '../components/Fresh';
import { ErrorLine } from '../components/ErrorLine';
import { StepForm } from '../components/StepForm';
import { openAlerts, alertAction, alertsLoadedAt, useAlertFeed, type Alert } from '../stores/alerts';
import { openIncidents, incidentAction, getIncident, incidentsLoadedAt, isOverdue, useIncidentFeed, type Incident } from '../stores/incidents';
import { api } from '../lib/api';
import { ReportBoard, ReportDetail } from './OpsReports';

function AlertCard({ a }: { a: Alert }) {
  const selected = current.value.params.get('alert') === a.id;
  return (
    <li>
      <a class={`card sev-${a.severity} ${selected ? 'selected' : ''}`} href={`#/ops?alert=${encodeURIComponent(a.id)}`} aria-current={selected ? 'true' : undefined} data-alert-id={a.id}>
        <span class="card-sev">{t(`sev.${a.severity}` as Key)}</span>
        <span class="card-title">{a.headline}</span>
        <span class="card-meta">
          {fmtTime(a.lastSeen)}
          {a.count > 1 && ` · ×${fmtNum(a.count, 0)}`}
        </span>
      </a>
    </li>
  );
}

function IncidentCard({ i }: { i: Incident }) {
  const selected = current.value.params.get('incident') === i.id;
  return (
    <li>
      <a class={`card prio-${i.priority} ${selected ? 'selected' : ''}`} href={`#/ops?incident=${encodeURIComponent(i.id)}`} aria-current={selected ? 'true' : undefined} data-incident-id={i.id}>
        <span class="card-sev">{t(`prio.${i.priority}` as Key)}</span>
        <span class="card-title">{i.title}</span>
        <span class="card-meta">
          {categoryLabel(i.category)}
          {i.sla && ` · ${t('ops.due')} ${fmtDateTime(i.sla.due_at)}`}
          {i.sop && ` · ${t('ops.stepsProgress', { done: i.sop.progress.done, total: i.sop.progress.total })}`}
        </span>
      </a>
    </li>
  );
}

function Column({ title, children, count }: { title: string; count: number; children: ComponentChildren }) {
  return (
    <section class="column" aria-label={title}>
      <h3>
        {title} <span class="count">{fmtNum(count, 0)}</span>
      </h3>
      <ul class="cards">{children}</ul>
      {count === 0 && <p class="hint">{t('ops.empty')}</p>}
    </section>
  );
}

function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function AlertDetail({ id }: { id: string }) {
  const fromList = openAlerts.value.find((a) => a.id === id);
  const [full, setFull] = useState<Alert | null>(null);
  const { busy, error, run } = useAction();
  const [note, setNote] = useState('');
  useEffect(() => void api<Alert>(`/api/v1/alerts/${encodeURIComponent(id)}`).then(setFull, () => setFull(null)), [id, fromList?.status, fromList?.count]);
  const a = fromList ?? full;
  if (!a) return <p class="hint">{t('loading')}</p>;
  const manage = can('alerts:manage');
  return (
    <article class="detail" aria-labelledby="detail-h">
      <p class={`pill sev-${a.severity}`}>{t(`sev.${a.severity}` as Key)}</p>
      <h2 id="detail-h">{a.headline}</h2>
      {a.description && <p>{a.description}</p>}
      <dl class="attrs">
        <div>
          <dt>{t('admin.status')}</dt>
          <dd data-testid="alert-status">{t(`ast.${a.status}` as Key)}</dd>
        </div>
        <div>
          <dt>{t('ops.subject')}</dt>
          <dd>{a.subject}</dd>
        </div>
        <div>
          <dt>{t('ops.value')}</dt>
          <dd>{fmtNum(a.value, 2)}</dd>
        </div>
        <div>
          <dt>{t('ops.since')}</dt>
          <dd>{fmtDateTime(a.firstSeen)}</dd>
        </div>
        <div>
          <dt>{t('ops.lastSeen')}</dt>
          <dd>
            {fmtDateTime(a.lastSeen)}
            {a.count > 1 && ` · ${t('ops.count', { n: fmtNum(a.count, 0) })}`}
          </dd>
        </div>
      </dl>
      {manage && (
        <div class="actions">
          <label>
            {t('ops.note')}
            <input value={note} onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)} />
          </label>
          {a.status === 'new' && (
            <button type="button" class="primary" disabled={busy} onClick={() => run(() => alertAction(a.id, 'acknowledge', note))}>
              {t('ops.acknowledge')}
            </button>
          )}
          <button type="button" disabled={busy} onClick={() => run(() => alertAction(a.id, 'resolve', note))}>
            {t('ops.resolve')}
          </button>
          {can('incidents:manage') && (
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                run(async () => {
                  const inc = await api<Incident>(`/api/v1/alerts/${encodeURIComponent(a.id)}/escalate`, { json: note ? { note } : {} });
                  go('ops', { incident: inc.id });
                })
              }
            >
              {t('ops.escalate')}
            </button>
          )}
        </div>
      )}
      <ErrorLine error={error} />
      <h3>{t('ops.timeline')}</h3>
      <ol class="timeline">
        {(full?.history ?? a.history ?? []).map((h, n) => (
          <li key={n}>
            <time>{fmtDateTime(h.at)}</time> {t(`ast.${h.to}` as Key)} — {h.by}
            {h.note && <q>{h.note}</q>}
          </li>
        ))}
      </ol>
    </article>
  );
}

function IncidentDetail({ id }: { id: string }) {
  const live = openIncidents.value.find((i) => i.id === id);
  const [inc, setInc] = useState<Incident | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const { busy, error, run } = useAction();
  const [text, setText] = useState('');
  const [agency, setAgency] = useState('');
  useEffect(() => {
    getIncident(id).then(setInc, setLoadError);
  }, [id, live?.updated_at_ms]);
  if (!inc) return loadError ? <ErrorLine error={loadError} /> : <p class="hint">{t('loading')}</p>;
  const manage = can('incidents:manage');
  const act = (action: string, body: Record<string, unknown>) =>
    run(async () => {
      setInc(await incidentAction(inc.id, action, body));
      setText('');
    });
  const open = inc.status === 'new' || inc.status === 'assigned' || inc.status === 'in_progress';
  const sop = inc.sop;
  return (
    <article class="detail" aria-labelledby="detail-h">
      <p class={`pill prio-${inc.priority}`}>
        {t(`prio.${inc.priority}` as Key)} · {t(`ist.${inc.status}` as Key)}
        {isOverdue(inc) && ` · ${t('ist.overdue')}`}
      </p>
      <h2 id="detail-h">{inc.title}</h2>
      {inc.description && <p>{inc.description}</p>}
      <dl class="attrs">
        <div>
          <dt>{t('ops.category')}</dt>
          <dd>{categoryLabel(inc.category)}</dd>
        </div>
        <div>
          <dt>{t('ops.agency')}</dt>
          <dd>{inc.agency ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('ops.assignee')}</dt>
          <dd>{inc.assignee ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('ops.due')}</dt>
          <dd>{inc.sla ? fmtDateTime(inc.sla.due_at) : '—'}</dd>
        </div>
      </dl>
      {manage && open && (
        <div class="actions">
          <label>
            {t('ops.assignee')} / {t('ops.reason')} / {t('ops.resolution')}
            <input value={text} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <label>
            {t('ops.agency')}
            <input value={agency} onInput={(e) => setAgency((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <button type="button" class="primary" disabled={busy || !text} onClick={() => act(inc.status === 'new' ? 'assign' : 'reassign', inc.status === 'new' ? { assignee: text, ...(agency ? { agency } : {}) } : { assignee: text, reason: 'reassigned from the console', ...(agency ? { agency } : {}) })}>
            {t('ops.assign')}
          </button>
          <button type="button" disabled={busy || !text} onClick={() => act('escalate', { reason: text })}>
            {t('ops.escalateUp')}
          </button>
          <button type="button" disabled={busy || !text} onClick={() => act('resolve', { resolution: text })}>
            {t('ops.resolve')}
          </button>
          <button type="button" disabled={busy || !text} onClick={() => act('comments', { text })}>
            {t('ops.comment')}
          </button>
        </div>
      )}
      <ErrorLine error={error} />
      {sop && (
        <section aria-labelledby="sop-h">
          <h3 id="sop-h">
            {t('ops.steps')}: {sop.title}{' '}
            <small>{t('ops.stepsProgress', { done: sop.progress.done, total: sop.progress.total })}</small>
          </h3>
          <progress max={sop.progress.total} value={sop.progress.done} aria-label={t('ops.steps')} />
          <ol class="steps">
            {sop.steps.map((s) => (
              <li key={s.n} class={s.status}>
                <span>
                  {s.title}
                  {s.mandatory && <small> ({t('ops.mandatory')})</small>}
                  {s.role && <small> · {s.role}</small>}
                </span>
                {s.status === 'done' ? (
                  <span class="done">
                    ✓ {t('ops.done')} {s.completed_by && `· ${s.completed_by}`}
                  </span>
                ) : (
                  manage && open && <StepForm step={s} busy={busy} onComplete={(data) => act(`steps/${s.n}/complete`, data ? { data } : {})} />
                )}
              </li>
            ))}
          </ol>
        </section>
      )}
      <h3>{t('ops.timeline')}</h3>
      <ol class="timeline">
        {(inc.timeline ?? []).map((e, n) => (
          <li key={n}>
            <time>{fmtDateTime(e.at)}</time> <b>{e.type}</b> — {e.actor}
            {e.text && <q>{e.text}</q>}
          </li>
        ))}
      </ol>
    </article>
  );
}

export function Ops() {
  useAlertFeed();
  useIncidentFeed();
  const alerts = openAlerts.value;
  const incidents = openIncidents.value;
  const p = current.value.params;
  const alertId = p.get('alert');
  const incidentId = p.get('incident');
  const reportId = p.get('report');
  const overdue = incidents.filter(isOverdue);
  const rest = incidents.filter((i) => !isOverdue(i));
  return (
    <div class="ops">
      <h1 class="screen-title">{t('ops.title')}</h1>
      <div class="ops-grid">
        <div class="boards">
          <Widget title={t('ops.alerts')} at={Math.max(alertsLoadedAt.value, lastEventAt.value.alerts ?? 0)} id="board-alerts">
            <div class="board">
              <Column title={t('ops.col.new')} count={alerts.filter((a) => a.status === 'new').length}>
                {alerts.filter((a) => a.status === 'new').map((a) => <AlertCard a={a} key={a.id} />)}
              </Column>
              <Column title={t('ops.col.claimed')} count={alerts.filter((a) => a.status === 'acknowledged').length}>
                {alerts.filter((a) => a.status === 'acknowledged').map((a) => <AlertCard a={a} key={a.id} />)}
              </Column>
            </div>
          </Widget>
          <Widget title={t('ops.incidents')} at={Math.max(incidentsLoadedAt.value, lastEventAt.value.incidents ?? 0)} id="board-incidents">
            <div class="board">
              <Column title={t('ops.col.new')} count={rest.filter((i) => i.status === 'new').length}>
                {rest.filter((i) => i.status === 'new').map((i) => <IncidentCard i={i} key={i.id} />)}
              </Column>
              <Column title={t('ops.col.assigned')} count={rest.filter((i) => i.status !== 'new').length}>
                {rest.filter((i) => i.status !== 'new').map((i) => <IncidentCard i={i} key={i.id} />)}
              </Column>
              <Column title={t('ops.col.overdue')} count={overdue.length}>
                {overdue.map((i) => <IncidentCard i={i} key={i.id} />)}
              </Column>
            </div>
          </Widget>
          <ReportBoard />
        </div>
        <div class="detail-pane widget" aria-live="polite">
          {alertId ? (
            <AlertDetail id={alertId} key={alertId} />
          ) : incidentId ? (
            <IncidentDetail id={incidentId} key={incidentId} />
          ) : reportId ? (
            <ReportDetail id={reportId} key={reportId} />
          ) : (
            <p class="hint">{t('ops.choose')}</p>
          )}
        </div>
      </div>
    </div>
  );
}
