// GraphiQL in Chromium as a partner uses it, with every request to another origin blocked: the
// schema as a partner, the explorer, a query, a subscription event; then a page on another origin
// makes one CORS request that the server allows and one that it refuses. Prints one JSON object.
// Usage: node browser.mjs <http url of /graphql> <partner token> <admin token> <book global id>
//          <allowed page origin, http://localhost:PORT> <screenshot path>
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

const [url, partnerToken, adminToken, bookId, allowedOrigin, screenshot] = process.argv.slice(2);
const serverOrigin = new URL(url).origin;
const pagePort = Number(new URL(allowedOrigin).port);
// The same page server under another name: another origin, which the server does not allow.
const refusedOrigin = `http://127.0.0.1:${pagePort}`;
const report = { outside: [], requests: { graphiql: [], cors: [] }, sockets: [], violations: [], pageErrors: [] };

/** Lets a context reach only `origins`; anything else is aborted and reported. */
async function confine(context, origins, asked) {
  await context.route('**/*', (route) => {
    const requested = route.request().url();
    if (origins.includes(new URL(requested).origin)) return route.continue();
    report.outside.push(requested);
    return route.abort('blockedbyclient');
  });
  context.on('request', (request) => asked.push(request.url()));
}

function text(locator) {
  // Monaco renders spaces as no-break spaces.
  return locator.innerText().then((shown) => shown.replaceAll('\u00a0', ' '));
}

async function replaceText(page, editor, content) {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // insertText types no key events: Monaco's auto-closing brackets and suggestions stay out of it.
  await page.keyboard.insertText(content);
}

function introspections(page) {
  // The answers to GraphiQL's schema requests, in order, with the token they carried.
  const seen = [];
  page.on('response', async (response) => {
    const request = response.request();
    if (request.method() !== 'POST' || !request.postData()?.includes('IntrospectionQuery')) return;
    const body = await response.json().catch(() => null);
    seen.push({
      withToken: request.headers().authorization === `Bearer ${partnerToken}`,
      status: response.status(),
      codes: (body?.errors ?? []).map((error) => error.extensions?.code),
      schema: Boolean(body?.data?.__schema),
    });
  });
  return seen;
}

async function until(condition, what, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function restock() {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      query: 'mutation ($id: ID!) { restock(bookId: $id, quantity: 1) { stock { available } userErrors { code } } }',
      variables: { id: bookId },
    }),
  });
  const body = await response.json();
  return body.data?.restock?.stock?.available ?? body;
}

async function graphiql(browser) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(20000);
  await confine(context, [serverOrigin], report.requests.graphiql);
  const page = await context.newPage();
  page.on('websocket', (socket) => report.sockets.push(socket.url()));
  page.on('pageerror', (error) => report.pageErrors.push(error.message));
  await page.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (event) =>
      window.violations.push(`${event.effectiveDirective} ${event.blockedURI}`),
    );
  });
  const schemas = introspections(page);

  const response = await page.goto(url);
  report.page = { status: response.status(), csp: response.headers()['content-security-policy'] ?? null };
  const query = page.locator('.graphiql-query-editor .monaco-editor');
  const headers = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor');
  const result = page.locator('.graphiql-response');
  await query.waitFor();
  report.headersHint = await text(headers.locator('.view-lines'));
  await until(() => schemas.length > 0, 'the first introspection');

  await replaceText(page, headers, JSON.stringify({ Authorization: `Bearer ${partnerToken}` }));
  await page.getByLabel(/Re-fetch GraphQL schema/).click();
  await until(() => schemas.some((s) => s.withToken), 'introspection with the token');
  report.introspections = schemas;

  // The explorer lists the root fields; a click on a field and one of its fields writes the query.
  await page.getByLabel('Show GraphiQL Explorer').click();
  const explorer = page.locator('.graphiql-explorer-root');
  const rootFields = explorer.locator('[id^="query-"] > .graphiql-explorer-node > [data-field-name]');
  await rootFields.first().waitFor();
  report.explorerFields = await rootFields.evaluateAll((nodes) => nodes.map((node) => node.dataset.fieldName));
  await explorer.locator('[data-field-name="genres"]').first().click();
  await explorer.locator('.graphiql-explorer-genres [data-field-name="name"]').first().click();
  const written = /genres\s*\{\s*name\s*\}/;
  await until(async () => written.test(await text(query.locator('.view-lines'))), 'the explorer to write the query');
  report.explorerQuery = await text(query.locator('.view-lines'));

  const answered = page.waitForResponse((response) => response.request().postData()?.includes('genres'));
  await page.getByLabel(/Execute query/).click();
  const answer = await answered;
  report.queryAuthorization = answer.request().headers().authorization ?? null;
  report.queryResult = await answer.json();
  await until(async () => (await text(result)).includes('"genres"'), 'the query result');
  // Monaco draws only the lines in view: what it shows must be the start of the answer.
  report.resultPane = (await text(result)).trim();
  report.resultPaneIsTheAnswer = JSON.stringify(report.queryResult, null, 2).startsWith(report.resultPane);

  await replaceText(page, query, `subscription BookStock { stockChanged(bookIds: ["${bookId}"]) { bookId stock { available } } }`);
  // Readable in the screenshot: formatted, and both editors scrolled back to their first column.
  await page.getByLabel(/Prettify query/).click();
  for (const editor of [headers, query]) {
    await editor.click();
    await page.keyboard.press('ControlOrMeta+Home');
  }
  // GraphiQL reads the operation from the editor a moment later; its tab is named after it then.
  await page.locator('.graphiql-tab-active').filter({ hasText: 'BookStock' }).waitFor();
  await page.getByLabel(/Execute query/).click();
  // No message says that the server is listening yet: restock again until an event shows.
  report.restocked = [];
  for (let attempt = 0; attempt < 20 && !report.event; attempt += 1) {
    const available = await restock();
    report.restocked.push(available);
    const shown = `"available": ${available}`;
    await until(async () => (await text(result)).includes(shown), 'a stock event', 1500).then(
      async () => { report.event = JSON.parse(await text(result)); },
      () => {},
    );
  }
  await page.screenshot({ path: screenshot });
  report.violations = await page.evaluate(() => window.violations);
  await context.close();
}

async function crossOrigin(browser) {
  const pages = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>a shop front-end</title>');
  });
  await new Promise((resolve) => pages.listen(pagePort, resolve));
  const context = await browser.newContext();
  context.setDefaultTimeout(20000);
  await confine(context, [serverOrigin, allowedOrigin, refusedOrigin], report.requests.cors);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
  report.cors = {};
  try {
    for (const [name, origin] of [['allowed', allowedOrigin], ['refused', refusedOrigin]]) {
      await page.goto(`${origin}/`);
      report.cors[name] = await page.evaluate(async (endpoint) => {
        try {
          const answer = await fetch(endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ genres { name } }' }),
          });
          return { status: answer.status, genres: (await answer.json()).data?.genres?.length ?? null };
        } catch (error) {
          return { error: String(error) };
        }
      }, url);
    }
    report.cors.consoleErrors = consoleErrors;
  } finally {
    await context.close();
    pages.close();
  }
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' });
try {
  await graphiql(browser);
  await crossOrigin(browser);
} catch (error) {
  report.failure = String(error?.stack ?? error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
