// The inbox page: loads what arrived so far, then appends deliveries as the server pushes
// them (Server-Sent Events). Everything is rendered with textContent, never as markup: the
// bodies come from the network.
const tbody = document.querySelector('#deliveries tbody');
const status = document.getElementById('status');
const seen = new Set();

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function render(entry) {
  if (seen.has(entry.id)) return;
  seen.add(entry.id);
  const row = document.createElement('tr');
  cell(row, String(entry.id));
  cell(row, new Date(entry.received_at).toLocaleTimeString());
  cell(row, entry.event_type ?? '(not JSON)');
  cell(row, entry.verified ? `verified (${entry.verified_with})` : `NOT verified: ${entry.error}`, entry.verified ? 'ok' : 'bad');
  cell(row, entry.tenant_id ?? '');
  cell(row, entry.message_id ?? '', 'mono');
  const bodyCell = cell(row, '');
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = 'show';
  const pre = document.createElement('pre');
  pre.textContent = typeof entry.body === 'string' ? entry.body : JSON.stringify(entry.body, null, 2);
  details.append(summary, pre);
  bodyCell.appendChild(details);
  tbody.prepend(row);
}

async function loadAll() {
  const response = await fetch('/inbox/deliveries', { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`GET /inbox/deliveries answered ${response.status}`);
  const { deliveries } = await response.json();
  deliveries.slice().reverse().forEach(render);
}

function connect() {
  const source = new EventSource('/inbox/events');
  source.addEventListener('open', () => {
    status.textContent = 'live';
    // Anything that arrived while disconnected.
    loadAll().catch((error) => { status.textContent = error.message; });
  });
  source.addEventListener('delivery', (event) => render(JSON.parse(event.data)));
  source.addEventListener('cleared', () => {
    tbody.replaceChildren();
    seen.clear();
  });
  source.addEventListener('error', () => { status.textContent = 'reconnecting…'; });
}

document.getElementById('clear').addEventListener('click', async () => {
  await fetch('/inbox/clear', { method: 'POST', credentials: 'same-origin' });
});

connect();
