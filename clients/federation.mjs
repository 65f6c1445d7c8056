// Apollo Federation with the real tools: @apollo/composition composes bookgraph's subgraph SDL with
// a small "reviews" subgraph written here, and @apollo/gateway serves queries that cross both ways.
// Prints one JSON object.
// Usage: node federation.mjs <bookgraph /graphql url> <subgraph.graphql path> <book global id>...
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, LocalGraphQLDataSource, RemoteGraphQLDataSource } from '@apollo/gateway';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { ApolloServer } from '@apollo/server';
import { parse } from 'graphql';

const [bookgraphUrl, sdlPath, ...bookIds] = process.argv.slice(2);
const reviewsTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
  type Review { id: ID! text: String! book: Book! }
  type Book @key(fields: "id") { id: ID! reviews: [Review!]! }
  type Query { reviews: [Review!]! }
`);
const reviews = bookIds.map((id, i) => ({ id: `r${i}`, text: `A review of ${id}`, book: { id } }));
const reviewsSchema = buildSubgraphSchema({
  typeDefs: reviewsTypeDefs,
  resolvers: {
    Query: { reviews: () => reviews },
    Book: { reviews: (book) => [{ id: `about-${book.id}`, text: `A review of ${book.id}`, book }] },
    Review: { book: (review) => ({ __typename: 'Book', id: review.book.id }) },
  },
});

const report = {};
const composed = composeServices([
  { name: 'bookgraph', url: bookgraphUrl, typeDefs: parse(readFileSync(sdlPath, 'utf8')) },
  { name: 'reviews', url: 'local://reviews', typeDefs: reviewsTypeDefs },
]);
report.compositionErrors = (composed.errors ?? []).map((e) => e.message);
if (!composed.errors) {
  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    buildService: ({ name, url }) =>
      name === 'reviews' ? new LocalGraphQLDataSource(reviewsSchema) : new RemoteGraphQLDataSource({ url }),
  });
  const server = new ApolloServer({ gateway });
  await server.start();
  const run = async (query) => {
    const response = await server.executeOperation({ query });
    return response.body.singleResult;
  };
  // bookgraph first, then the reviews subgraph for each book.
  report.booksWithReviews = await run(`{ books(first: 2, orderBy: { field: TITLE }) { edges { node { id title reviews { text } } } } }`);
  // The reviews subgraph first, then bookgraph's _entities for the books it names.
  report.reviewsWithBooks = await run(`{ reviews { text book { id title authors { name } } } }`);
  await server.stop();
}
console.log(JSON.stringify(report));
