// graphql-ws, as a frontend uses it: subscribe to the viewer's orders and to a book's stock, then
// place and cancel an order over HTTP and report what arrived. Prints one JSON object.
// Usage: node subscriptions.mjs <http url of /graphql> <token> <book global id>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, bookId] = process.argv.slice(2);
const wsUrl = url.replace(/^http/, 'ws');

function client(connectionParams) {
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

async function post(query, variables) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

function collect(ws, query, variables, until) {
  const events = [];
  let resolveDone, rejectDone;
  const done = new Promise((resolve, reject) => { resolveDone = resolve; rejectDone = reject; });
  const stop = ws.subscribe({ query, variables }, {
    next: (value) => { events.push(value); if (until(events)) resolveDone(events); },
    error: (error) => rejectDone(error),
    complete: () => resolveDone(events),
  });
  return { events, done, stop };
}

const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);

const ws = client({ Authorization: `Bearer ${token}` });
const report = {};
try {
  // One round trip first, so both subscriptions are listening before anything changes.
  const hello = collect(ws, '{ viewer { id } }', {}, () => false);
  await withTimeout(hello.done, 10000, 'first query');
  report.viewer = hello.events[0]?.data?.viewer?.id ?? null;

  const orders = collect(ws, 'subscription { orderStatusChanged { previousStatus status order { id } } }', {},
    (events) => events.some((e) => e.data?.orderStatusChanged?.status === 'CANCELLED'));
  const stock = collect(ws, 'subscription ($ids: [ID!]!) { stockChanged(bookIds: $ids) { bookId stock { available } } }',
    { ids: [bookId] }, (events) => events.length >= 2);
  await new Promise((resolve) => setTimeout(resolve, 500)); // registered with Redis

  const placed = await post(
    'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } userErrors { code } } }',
    { input: { idempotencyKey: `graphql-ws-${Date.now()}`, lines: [{ bookId, quantity: 1 }] } },
  );
  report.placed = placed.data?.placeOrder ?? placed;
  const orderId = placed.data?.placeOrder?.order?.id;
  const cancelled = await post('mutation ($id: ID!) { cancelOrder(id: $id) { order { status } } }', { id: orderId });
  report.cancelled = cancelled.data?.cancelOrder?.order?.status ?? cancelled;

  await withTimeout(orders.done, 15000, 'order events');
  await withTimeout(stock.done, 15000, 'stock events');
  orders.stop(); stock.stop();
  report.orderEvents = orders.events.map((e) => e.data.orderStatusChanged)
    .filter((e) => e.order.id === orderId).map((e) => [e.previousStatus, e.status]);
  report.stockEvents = stock.events.map((e) => e.data.stockChanged);
} catch (error) {
  report.failure = String(error?.message ?? error);
} finally {
  await ws.dispose();
}

// A bad token: the server refuses the connection, and graphql-ws reports it.
const refused = client({ Authorization: 'Bearer not-a-token' });
try {
  const attempt = collect(refused, '{ __typename }', {}, () => true);
  await withTimeout(attempt.done, 10000, 'bad token');
  report.badToken = 'accepted';
} catch (error) {
  report.badToken = { code: error?.code ?? null, reason: error?.reason ?? String(error) };
} finally {
  await refused.dispose();
}
console.log(JSON.stringify(report));
