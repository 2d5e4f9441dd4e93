// A coarse clock for "x seconds ago" and staleness: one signal tick per second for the whole app.
import { signal } from '@preact/signals';

export const now = signal(Date.now());
window.setInterval(() => (now.value = Date.now()), 1000);
