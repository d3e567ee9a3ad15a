// Progressive enhancement only: every page works without this file (the CSP forbids inline scripts).

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

// Forms marked data-busy-label show that they are working: the submit button is disabled (no
// second submit) and says so until the next page arrives.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.busyLabel || event.defaultPrevented) return;
  const button = form.querySelector('button[type="submit"]');
  if (!button) return;
  // After the submit has been dispatched: a disabled button sends nothing of its own.
  setTimeout(() => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    button.textContent = form.dataset.busyLabel;
  });
});
