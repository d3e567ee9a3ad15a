// The revealed-credential page: "Copy" buttons (data-copy="<id of the field>") put a field's value on the
// clipboard. Without JavaScript the fields are still there to select and copy by hand.
/* global Element, HTMLInputElement, HTMLTextAreaElement, navigator */

const status = document.getElementById('copy-status');

function say(text) {
  if (status) status.textContent = text;
}

document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null;
  if (!button) return;
  const field = document.getElementById(button.getAttribute('data-copy') ?? '');
  if (!(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) return;
  try {
    await navigator.clipboard.writeText(field.value);
    say('Copied to the clipboard.');
  } catch {
    // No clipboard API (plain HTTP, or permission refused): select the text so Ctrl+C works.
    field.focus();
    field.select();
    say('Press Ctrl+C (⌘C) to copy the selected text.');
  }
});
