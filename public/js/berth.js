// Progressive enhancement only: every page works without this file (the CSP forbids inline scripts).
/* global HTMLButtonElement, HTMLInputElement */

// Buttons and forms marked data-confirm ask before submitting.
document.addEventListener('submit', (event) => {
  const form = event.target;
  const message = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (message && !window.confirm(message)) event.preventDefault();
});

/** The page's CSRF token, for fetch() calls that change state. */
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
}

/** What is busy now: each entry undoes itself (pageshow from the history cache ends them all). */
const active = new Set();

/**
 * Shows that `button` started something that takes a while: disables it (no second click), marks it
 * `busy`, and puts a live status after it saying `label` and the seconds since, updated every second.
 * `others` (the form's other submit buttons) are disabled with it. Returns `done(message?)`: it
 * enables the buttons again and removes the status, or, given a message, leaves that message in the
 * status instead (say why it failed). Used by forms marked `data-busy` (below) and by the fetch()
 * actions of the other scripts.
 */
export function showBusy(button, label = 'Working…', others = []) {
  const buttons = [button, ...others.filter((b) => b !== button)];
  const wereDisabled = buttons.map((b) => b.disabled);
  const status = document.createElement('span');
  status.className = 'busy-status';
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  // The seconds are for the eye: a screen reader hears the label once, not a count every second.
  const seconds = document.createElement('span');
  seconds.setAttribute('aria-hidden', 'true');
  status.append(label, seconds);
  for (const b of buttons) b.disabled = true;
  button.classList.add('busy');
  button.setAttribute('aria-busy', 'true');
  button.after(status);
  const started = Date.now();
  const ticker = window.setInterval(() => {
    seconds.textContent = ` ${Math.floor((Date.now() - started) / 1000)} s`;
  }, 1000);

  const done = (message) => {
    if (!active.has(done)) return;
    active.delete(done);
    window.clearInterval(ticker);
    buttons.forEach((b, i) => {
      b.disabled = wereDisabled[i];
    });
    button.classList.remove('busy');
    button.removeAttribute('aria-busy');
    if (message) {
      status.textContent = message;
      status.classList.add('busy-ended'); // no spinner: nothing is running any more
    } else {
      status.remove();
    }
  };
  active.add(done);
  return done;
}

/** The submit buttons of `form`, including those outside it that name it (form="…"). */
function submitButtons(form) {
  return [...form.elements].filter((el) => (el instanceof HTMLButtonElement || el instanceof HTMLInputElement) && el.type === 'submit');
}

// Forms marked data-busy="Testing connection…" show that they are working until the next page
// arrives: every submit button is disabled (no second submit) and the one pressed shows the label and
// the elapsed seconds. (data-busy-label is the older name of the same thing.) Listening on document,
// after data-confirm above: a cancelled confirmation, or a script that sends the form itself
// (preventDefault), leaves the buttons alone. Not for forms whose answer is a download (no next page).
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
  const label = form.dataset.busy ?? form.dataset.busyLabel;
  if (label === undefined) return;
  const buttons = submitButtons(form);
  const pressed = event.submitter && buttons.includes(event.submitter) ? event.submitter : buttons[0];
  if (!pressed) return;
  // After the submission has been built: a button disabled before would leave its name=value out.
  window.setTimeout(() => showBusy(pressed, label || 'Working…', buttons));
});

// Back (or forward) to a page kept in the history cache: it comes back as it was left, busy. Nothing
// is running for it any more, so give the buttons back.
window.addEventListener('pageshow', (event) => {
  if (!event.persisted) return;
  for (const done of [...active]) done();
});

// On a phone the nav is a strip that scrolls sideways: bring the current page's link into view by
// scrolling the strip only (scrollIntoView would also move the page, away from a #fragment).
const currentLink = document.querySelector('.sidebar a[aria-current]');
const strip = currentLink?.closest('ul');
if (currentLink && strip && strip.scrollWidth > strip.clientWidth) {
  const overflow = currentLink.offsetLeft - strip.offsetLeft + currentLink.offsetWidth - (strip.scrollLeft + strip.clientWidth);
  if (overflow > 0) strip.scrollLeft += overflow + 16;
}
