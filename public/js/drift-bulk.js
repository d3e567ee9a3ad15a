// The drift page's bulk forms (views/inventory/drift.ejs): "select all" and a selection count for
// the unknown machines (import) and the records gone from Proxmox (forget, re-link). Progressive
// enhancement: without this file each row's checkbox still submits its value, and each "select
// all" box submits all=1 (the server takes every unknown machine on a registered node, or every
// record gone from Proxmox).

for (const selectAll of document.querySelectorAll('[data-select-all]')) {
  const name = selectAll.dataset.selectAll;
  const form = document.getElementById(selectAll.getAttribute('form'));
  if (!form) continue;
  const count = form.querySelector('[data-selected-count]');
  const boxes = () => [...document.querySelectorAll(`input[type=checkbox][form="${form.id}"][data-row], input[type=checkbox][name="${name}"][form="${form.id}"]`)];

  // Whether the page lists every item "all" would take (data-complete="yes"). When it does not,
  // ticking every listed box means those boxes only: "all" is sent only when the person ticked the
  // select-all box itself (`chosen`), and unticking any box takes that back.
  const complete = selectAll.dataset.complete === 'yes';
  let chosen = selectAll.checked;

  const refresh = () => {
    const all = boxes();
    const checked = all.filter((b) => b.checked).length;
    const every = all.length > 0 && checked === all.length;
    if (!every) chosen = false;
    selectAll.checked = every && (complete || chosen);
    selectAll.indeterminate = checked > 0 && !selectAll.checked;
    if (count) count.textContent = selectAll.checked && !complete ? 'All selected (more than are listed)' : checked ? `${checked} selected` : '';
  };

  // The page drawn again after a refusal with "all" ticked: show it as every box ticked.
  if (selectAll.checked) for (const box of boxes()) box.checked = true;
  selectAll.addEventListener('change', () => {
    chosen = selectAll.checked;
    for (const box of boxes()) box.checked = selectAll.checked;
    refresh();
  });
  document.addEventListener('change', (event) => {
    if (event.target?.getAttribute?.('form') === form.id && event.target !== selectAll) refresh();
  });

  // Many boxes would pass the server's form parameter limit: send the selection as one field of
  // space-separated values (the server accepts both). "All" (all=1) is sent instead of the boxes
  // only when the select-all box is ticked (see `complete` and `chosen`).
  form.addEventListener('submit', () => {
    const all = boxes();
    for (const box of all) {
      box.dataset.row = '';
      box.removeAttribute('name');
    }
    if (selectAll.name && selectAll.checked) return;
    const packed = document.createElement('input');
    packed.type = 'hidden';
    packed.name = name;
    packed.value = all.filter((b) => b.checked).map((b) => b.value).join(' ');
    packed.dataset.packed = '';
    form.append(packed);
  });

  // Coming back through the history cache: restore the boxes as they were.
  window.addEventListener('pageshow', () => {
    for (const packed of form.querySelectorAll('[data-packed]')) packed.remove();
    for (const box of document.querySelectorAll(`input[data-row][form="${form.id}"]`)) box.name = name;
    refresh();
  });
  refresh();
}
