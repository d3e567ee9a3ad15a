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
