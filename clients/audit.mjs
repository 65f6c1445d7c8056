// graphql-http's audit of a GraphQL-over-HTTP server: prints one JSON line per audit.
// Usage: node audit.mjs <http url of /graphql> [token]
// With a token, every request carries it: the audit's variables checks query `__type`, which is
// introspection, and outside development only partners and admins may introspect.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
const fetchFn = token
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    }
  : fetch;
const results = await auditServer({ url, fetchFn });
for (const result of results) {
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason: result.reason }));
}
