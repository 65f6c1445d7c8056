"""Recommendations from orders and the catalog: four strategies on the real data, blended.

- CO_PURCHASE: item-to-item collaborative filtering ("customers who bought this also bought"). Two
  books are similar when the same customers buy both more than their popularity explains: cosine
  similarity of their customer vectors, c / sqrt(n_a * n_b), shrunk by c / (c + SHRINK) so one
  shared customer between two rare books does not outrank a hundred between two common ones.
  Customers, not single orders: what someone buys next is rarely in the same basket (measured with
  `bookgraph recs evaluate`: per-order baskets scored below TRENDING on the demo data).
- CONTENT: the nearest books, by embedding, to what the customer bought (recent purchases weigh more).
- TRENDING: sales of the last weeks with exponential time decay (a half-life in days). A store whose
  sales are all older than that (a demo loaded long ago, a quiet shop) is not left with nothing: the
  window moves back to end at its latest sale, lists it leaves short are filled with all-time best
  sellers, and a store without a single sale lists its newest books in stock; each book carries the
  period it was popular in, so its reason says which.
- HYBRID: a weighted blend of the three, each normalised to [0, 1]; never what the customer bought
  or what is out of stock; TRENDING for a customer with no history (cold start).

`values` holds what recommendations are made of, `algorithms` the plain functions over plain data
(so the offline `evaluation` runs exactly the code that serves), `recommender` the `Recommender`
that adds the stores: the orders history, the vectors and the Redis cache. Imports datasources,
never the schema.
"""
