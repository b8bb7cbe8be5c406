// The dashboard's client: routes on `location.pathname` (links are real hrefs, followed with
// history.pushState), draws each page from the JSON API, asks for an API key when the
// collector has keys, and runs the header's id search.
import { api, ApiError, forgetKey, keysRequired, query, storedKey, storeKey } from './api.js';
import { agentsPage } from './agents.js';
import { decisionPage } from './decision.js';
import { fill, h, message } from './dom.js';
import { overviewPage } from './overview.js';
import { normaliseId, sessionPage } from './session.js';
import { sessionsPage } from './sessions.js';

const ROUTES = [
  { pattern: /^\/$/, page: overviewPage, nav: 'overview' },
  { pattern: /^\/sessions$/, page: sessionsPage, nav: 'sessions' },
  { pattern: /^\/sessions\/([^/]+)$/, page: sessionPage, nav: 'sessions' },
  { pattern: /^\/decisions\/([^/]+)$/, page: decisionPage, nav: null },
  { pattern: /^\/agents$/, page: agentsPage, nav: 'agents' },
];

const main = document.getElementById('main');
const searchForm = document.getElementById('search');
const searchInput = document.getElementById('search-input');
const searchStatus = document.getElementById('search-status');
let current = { controller: new AbortController(), leave: [] };

/** Draws the page of the current URL; `focus` moves focus to its heading (after a navigation). */
function render({ focus = false } = {}) {
  current.controller.abort();
  for (const fn of current.leave) fn();
  const controller = new AbortController();
  current = { controller, leave: [] };
  delete main.dataset.ready;
  delete main.dataset.error;
  showKeyState();

  const path = location.pathname;
  const route = ROUTES.find((r) => r.pattern.test(path));
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === route?.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (keysRequired() && !storedKey()) {
    keyForm(null);
    return;
  }
  fill(main, h('p', { class: 'loading', text: 'Loading…' }));
  if (!route) {
    document.title = 'Not found · sessiongraph';
    fill(
      main,
      h('h1', { text: 'Not found', tabindex: '-1' }),
      message('notice', 'No dashboard page here. ', h('a', { href: '/', text: 'Go to the overview' }), '.'),
    );
    return;
  }
  const ctx = {
    main,
    params: path.match(route.pattern).slice(1).map(safeDecode),
    query: new URLSearchParams(location.search),
    signal: controller.signal,
    setTitle: (text) => (document.title = `${text} · sessiongraph`),
    onLeave: (fn) => current.leave.push(fn),
    /** Replaces the query string (empty values left out): pushed, so Back returns to the previous view. */
    pushQuery: (params, { replace = false } = {}) =>
      history[replace ? 'replaceState' : 'pushState'](null, '', `${location.pathname}${query(params)}`),
    redirect: (url) => history.replaceState(null, '', url),
    fail: (err) => fail(err, controller),
  };
  Promise.resolve()
    .then(() => route.page(ctx))
    .then(() => {
      if (focus && !controller.signal.aborted) main.querySelector('h1')?.focus({ preventScroll: true });
    })
    .catch(ctx.fail);
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Shows what went wrong with a page's API calls: a key prompt for 401/403, else the API's message. */
function fail(err, controller) {
  if (controller.signal.aborted || err?.name === 'AbortError') return;
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    const hadKey = storedKey() !== null;
    controller.abort(); // the page's other calls would fail the same way
    forgetKey();
    keyForm(err.status === 403 ? 'forbidden' : hadKey ? 'invalid' : null);
    return;
  }
  main.dataset.error = err instanceof ApiError ? String(err.status) : 'client';
  const title = err instanceof ApiError && err.status === 404 ? 'Not found' : 'Something went wrong';
  fill(
    main,
    h('h1', { text: title, tabindex: '-1' }),
    message('error', err instanceof ApiError ? err.message : `The page could not be drawn: ${err?.message ?? err}`),
    h('p', {}, h('a', { href: '/', text: 'Back to the overview' })),
  );
}

const KEY_MESSAGES = {
  invalid: 'That key is not valid: the collector does not know it. Check it and enter it again, or enter another key.',
  forbidden: 'That key lacks the read scope: it may send traces but not read them. Enter a key with the read scope.',
};

/** The API-key prompt. `reason`: null (none yet), 'invalid' (401) or 'forbidden' (403). */
function keyForm(reason) {
  showKeyState();
  document.title = 'API key · sessiongraph';
  const input = h('input', {
    id: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'key-help',
  });
  const form = h(
    'form',
    {
      class: 'key-form panel',
      id: 'key-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          const key = input.value.trim();
          if (!key) return;
          storeKey(key);
          input.value = '';
          render({ focus: true });
        },
      },
    },
    h('h1', { text: 'API key needed', tabindex: '-1' }),
    reason
      ? h('p', {
          class: 'message message-error',
          id: 'key-message',
          role: 'alert',
          dataset: { reason },
          text: KEY_MESSAGES[reason],
        })
      : null,
    h(
      'p',
      { id: 'key-help' },
      'This collector has API keys configured. Enter a key with the ',
      h('strong', { text: 'read' }),
      ' scope. It is kept in this browser tab only (sessionStorage, gone when the tab closes) and sent as ',
      h('code', { text: 'Authorization: Bearer …' }),
      ' to the collector’s API; it never goes into a URL.',
    ),
    h('label', { for: 'api-key', text: 'API key' }),
    h('div', { class: 'key-row' }, input, h('button', { type: 'submit', text: 'Use this key' })),
  );
  fill(main, form);
  main.dataset.ready = 'key-form';
  (reason ? input : form.querySelector('h1')).focus({ preventScroll: true });
}

function showKeyState() {
  document.getElementById('key-state').hidden = !(keysRequired() && storedKey());
}

/** Follows a same-origin dashboard link without reloading the page. */
export function navigate(href, { replace = false } = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', href);
  render({ focus: true });
  window.scrollTo(0, 0);
}

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !ROUTES.some((r) => r.pattern.test(url.pathname))) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return; // in-page anchor
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => render());

document.getElementById('forget-key').addEventListener('click', () => {
  forgetKey();
  render({ focus: true });
});

// The header search: a session id, decision id or trace id (any case, dashes or not). A trace
// id is its session's id without dashes, so all three are one UUID. Sessions are looked up
// through the list's trace_id filter (an answer of 200 either way, so a miss logs no failed
// request in the browser console), then the decision by id; nothing found says so.
searchForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = searchInput.value.trim();
  if (!text) return;
  const uuid = normaliseId(text);
  searchStatus.dataset.state = 'searching';
  if (!uuid) {
    say(
      `Nothing found: “${text.slice(0, 80)}” is not a session, decision or trace id (32 hex digits, dashes optional).`,
      'none',
    );
    return;
  }
  say('Looking up…', 'searching');
  try {
    const page = await api(`/api/sessions${query({ trace_id: uuid.replaceAll('-', ''), limit: 1 })}`);
    if (page.sessions.length > 0) return found(`/sessions/${uuid}`);
    await api(`/api/decisions/${uuid}`);
    return found(`/decisions/${uuid}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404)
      say(`Nothing found: no session, decision or trace has the id ${uuid}.`, 'none');
    else if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      say('', 'idle');
      fail(err, new AbortController());
    } else say(err instanceof ApiError ? err.message : String(err), 'error');
  }
});

function found(href) {
  say('', 'found');
  searchInput.value = '';
  navigate(href);
}

function say(text, state) {
  searchStatus.textContent = text;
  searchStatus.dataset.state = state;
}

render();
