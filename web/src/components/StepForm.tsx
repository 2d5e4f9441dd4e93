// Completing one SOP step: a form step's fields, a checklist's items (all must be ticked), or
// just a confirmation for manual and notify steps.
import type { SopStep } from '../stores/incidents';
import { t } from '../lib/i18n';

export function StepForm({ step, busy, onComplete }: { step: SopStep; busy: boolean; onComplete: (data: Record<string, unknown> | null) => void }) {
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    if (step.kind === 'checklist') return onComplete({ checked: f.getAll('checked').map(String) });
    if (step.kind !== 'form' || !step.fields) return onComplete(null);
    const data: Record<string, unknown> = {};
    for (const field of step.fields) {
      const raw = f.get(field.name);
      if (field.type === 'boolean') data[field.name] = raw === 'on';
      else if (raw === null || raw === '') continue;
      else if (field.type === 'number') data[field.name] = Number(raw);
      else data[field.name] = String(raw);
    }
    onComplete(data);
  };
  const id = (name: string) => `step${step.n}-${name}`;
  return (
    <form class="step-form" onSubmit={submit}>
      {step.kind === 'form' &&
        step.fields?.map((field) =>
          field.type === 'boolean' ? (
            <label class="check" key={field.name} for={id(field.name)}>
              <input type="checkbox" id={id(field.name)} name={field.name} />
              {field.name}
            </label>
          ) : (
            <label key={field.name} for={id(field.name)}>
              {field.name}
              {field.type === 'select' ? (
                <select id={id(field.name)} name={field.name} required={field.required}>
                  {field.options?.map((o) => (
                    <option key={o}>{o}</option>
                  ))}
                </select>
              ) : (
                <input id={id(field.name)} name={field.name} type={field.type === 'number' ? 'number' : 'text'} step="any" required={field.required} />
              )}
            </label>
          ),
        )}
      {step.kind === 'checklist' &&
        step.checklist?.map((item) => (
          <label class="check" key={item}>
            <input type="checkbox" name="checked" value={item} required />
            {item}
          </label>
        ))}
      <button type="submit" disabled={busy}>
        {t('ops.complete')}
      </button>
    </form>
  );
}
