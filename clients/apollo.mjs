// Apollo Client 4 as an app uses it: automatic persisted queries (POST, then GET for hashed queries),
// a validation error as the app sees it, and a mutation's userErrors. Prints one JSON object.
// Usage: node apollo.mjs <http url of /graphql> <token> <book global id>
import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

const [url, token, bookId] = process.argv.slice(2);
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function client({ useGET }) {
  const wire = [];
  const fetchAndRecord = async (input, init) => {
    const response = await fetch(input, init);
    const body = await response.clone().json();
    const sent = init.body ? JSON.parse(init.body) : Object.fromEntries(new URL(input).searchParams);
    wire.push({
      method: init.method ?? 'GET',
      withText: Boolean(sent.query),
      status: response.status,
      contentType: response.headers.get('content-type'),
      codes: (body.errors ?? []).map((e) => e.extensions?.code),
    });
    return response;
  };
  const link = ApolloLink.from([
    new PersistedQueryLink({ sha256, useGETForHashedQueries: useGET }),
    new HttpLink({ uri: url, fetch: fetchAndRecord, headers: { authorization: `Bearer ${token}` } }),
  ]);
  return { apollo: new ApolloClient({ link, cache: new InMemoryCache() }), wire };
}

async function persisted(useGET) {
  const { apollo, wire } = client({ useGET });
  // A document of this run only, so its hash is unknown to the server at first.
  const query = gql(`query Genres${useGET ? 'Get' : 'Post'}${Date.now()} { genres { name } }`);
  const first = await apollo.query({ query, fetchPolicy: 'network-only' });
  const second = await apollo.query({ query, fetchPolicy: 'network-only' });
  return { genres: [first.data.genres.length, second.data.genres.length], wire };
}

const report = {};
try {
  report.post = await persisted(false);
  report.get = await persisted(true);

  const { apollo } = client({ useGET: false });
  try {
    await apollo.query({ query: gql('{ books(first: 1) { edges { node { titel } } } }') });
    report.validation = 'no error';
  } catch (error) {
    report.validation = {
      name: error.name,
      messages: (error.errors ?? []).map((e) => e.message),
      codes: (error.errors ?? []).map((e) => e.extensions?.code),
    };
  }
  const placed = await apollo.mutate({
    mutation: gql(`mutation ($input: PlaceOrderInput!) {
      placeOrder(input: $input) { order { id } userErrors { field code message } } }`),
    variables: { input: { idempotencyKey: `apollo-${Date.now()}`, lines: [{ bookId, quantity: 0 }] } },
  });
  report.userErrors = placed.data.placeOrder.userErrors;
  report.order = placed.data.placeOrder.order;
} catch (error) {
  report.failure = `${error.name}: ${error.message}`;
}
console.log(JSON.stringify(report));
