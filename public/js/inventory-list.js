// Container/VM list (views/inventory/index.ejs): "select all" and a selection count for the admins'
// bulk form. Progressive enhancement: without this file each row's checkbox still submits its id.

const form = document.getElementById('bulk-form');
const selectAll = document.querySelector('[data-select-all]');
const count = document.querySelector('[data-selected-count]');
const boxes = () => [...document.querySelectorAll('input[type=checkbox][name=ids][form=bulk-form]')];

function refresh() {
  const all = boxes();
  const checked = all.filter((b) => b.checked).length;
  if (selectAll) {
    selectAll.checked = all.length > 0 && checked === all.length;
    selectAll.indeterminate = checked > 0 && checked < all.length;
  }
  if (count) count.textContent = checked ? `${checked} selected` : '';
}

if (form && selectAll) {
  selectAll.hidden = false;
  selectAll.addEventListener('change', () => {
    for (const box of boxes()) box.checked = selectAll.checked;
    refresh();
  });
  document.addEventListener('change', (event) => {
    if (event.target?.name === 'ids') refresh();
  });

  // A full page of 200 boxes would pass the server's form parameter limit: send the ids as one
  // comma-separated field instead (the server accepts both forms). Listening on document, after
  // berth.js's data-confirm handler, so a cancelled confirmation leaves the boxes untouched.
  document.addEventListener('submit', (event) => {
    if (event.target !== form || event.defaultPrevented) return;
    const all = boxes();
    const packed = document.createElement('input');
    packed.type = 'hidden';
    packed.name = 'ids';
    packed.value = all.filter((b) => b.checked).map((b) => b.value).join(',');
    packed.dataset.packed = '';
    for (const box of all) {
      box.dataset.name = 'ids';
      box.removeAttribute('name');
    }
    form.append(packed);
  });

  // Coming back through the history cache: restore the boxes as they were.
  window.addEventListener('pageshow', () => {
    for (const packed of form.querySelectorAll('[data-packed]')) packed.remove();
    for (const box of document.querySelectorAll('input[data-name=ids]')) box.name = 'ids';
    refresh();
  });
  refresh();
}
