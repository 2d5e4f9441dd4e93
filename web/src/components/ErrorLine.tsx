import { ApiError } from '../lib/api';

export function errorText(e: unknown): string {
  return e instanceof ApiError ? e.userMessage : e instanceof Error ? e.message : String(e);
}

export function ErrorLine({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {errorText(error)}
    </p>
  );
}
