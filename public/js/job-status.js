// The job status page (views/jobs/status.ejs): follows GET /api/stream/:jobId (Server-Sent Events),
// appends output to the log (stderr and Berth's own lines styled apart), keeps the elapsed time and
// status current, and auto-scrolls only while the user is at the bottom of the log.
import { csrfToken, showBusy } from './berth.js';

const panel = document.getElementById('job');
if (panel) {
  const jobId = panel.dataset.jobId;
  const log = document.getElementById('log');
  const statusEl = document.getElementById('job-status');
  const elapsedEl = document.getElementById('job-elapsed');
  const exitEl = document.getElementById('job-exit-code');
  const errorEl = document.getElementById('job-error');
  const cancelForm = document.getElementById('cancel-form');
  let startedAt = panel.dataset.startedAt ? new Date(panel.dataset.startedAt) : null;
  let finishedAt = panel.dataset.finishedAt ? new Date(panel.dataset.finishedAt) : null;
  // The server's list of final statuses, plus the stream's `deleted` (the job row no longer exists).
  const finalStatuses = new Set([...(panel.dataset.finalStatuses ?? '').split(' ').filter(Boolean), 'deleted']);
  let follow = true;

  log.addEventListener('scroll', () => {
    follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  });

  const showStatus = (state) => {
    statusEl.textContent = state.status;
    statusEl.className = `status status-${state.status}`;
    panel.dataset.status = state.status;
    if (state.startedAt) startedAt = new Date(state.startedAt);
    if (state.finishedAt) finishedAt = new Date(state.finishedAt);
    if (state.exitCode !== null && state.exitCode !== undefined) exitEl.textContent = String(state.exitCode);
    const final = finalStatuses.has(state.status);
    if (final) {
      cancelForm?.remove();
      if (state.error) {
        errorEl.textContent = state.error;
        errorEl.hidden = false;
      }
    }
    tick();
  };

  const tick = () => {
    if (!startedAt) return;
    const end = finishedAt ?? new Date();
    elapsedEl.textContent = `${Math.max(0, Math.round((end.getTime() - startedAt.getTime()) / 1000))} s`;
  };
  const ticker = setInterval(tick, 1000);

  // Batches appends per animation frame: a chatty job should not re-layout per line.
  let pending = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const fragment = document.createDocumentFragment();
    for (const row of pending) {
      const span = document.createElement('span');
      if (row.stream !== 'stdout') span.className = row.stream;
      span.textContent = row.output;
      fragment.appendChild(span);
    }
    pending = [];
    log.appendChild(fragment);
    if (follow) log.scrollTop = log.scrollHeight;
  };

  const source = new EventSource(`/api/stream/${encodeURIComponent(jobId)}`);
  source.addEventListener('output', (event) => {
    pending.push(JSON.parse(event.data));
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(flush);
    }
  });
  source.addEventListener('status', (event) => showStatus(JSON.parse(event.data)));
  source.addEventListener('end', (event) => {
    source.close();
    flush();
    showStatus(JSON.parse(event.data));
    clearInterval(ticker);
    panel.dataset.streamEnded = 'true';
  });

  // Cancel without leaving the page (the form still works without this script).
  cancelForm?.addEventListener('submit', async (event) => {
    event.preventDefault();
    event.stopPropagation(); // berth.js would ask a second time
    if (!window.confirm(cancelForm.dataset.confirm)) return;
    const button = document.getElementById('cancel-button');
    const done = showBusy(button, 'Cancelling…');
    try {
      const res = await fetch(cancelForm.action, { method: 'POST', headers: { 'X-CSRF-Token': csrfToken(), Accept: 'application/json' } });
      if (res.ok) {
        // Asked: the stream reports the job's end (and removes the form); no second request.
        done('Cancellation requested.');
        button.disabled = true;
      } else {
        const body = await res.json().catch(() => ({}));
        done(body.error ?? `Could not cancel (HTTP ${res.status}).`);
      }
    } catch {
      done('Could not reach Berth: try again.');
    }
  });
}
