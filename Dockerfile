# Production image: configuration comes from the environment
# (INVENTORY_DATABASE_URL, ORDERS_DATABASE_URL, REDIS_URL, JWT_SECRET).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ENVIRONMENT=production

WORKDIR /app
COPY . .
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install . \
    && useradd --create-home --uid 10001 bookgraph \
    && chown -R bookgraph /app
USER bookgraph

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"

# Apply migrations with `docker run … bookgraph migrate` before rolling out a new version.
# SIGTERM: stop accepting, finish requests in flight (up to 20 s), then exit.
CMD ["uvicorn", "app:app_from_environment", "--factory", "--host", "0.0.0.0", "--port", "8000", "--no-access-log", "--proxy-headers", "--timeout-graceful-shutdown", "20"]
