# optout-bot: a normal (non-editable) install of the package -- its templates and catalogs are
# package data -- with every dependency pinned and hashed from requirements.lock (the same
# pins scripts/install uses), run as a non-root user, the database and its key on volumes.
FROM python:3.11-slim

WORKDIR /app
# The dependencies in their own layer: rebuilt only when the lock changes.
COPY requirements.lock ./
RUN python -m pip install --no-cache-dir --require-hashes -r requirements.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY conversations ./conversations
COPY templates ./templates
RUN python -m pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 optout \
    && mkdir -p /data /keys && chown optout:optout /data /keys && chmod 700 /keys

USER optout
WORKDIR /home/optout
# The database and its encryption key live on separate volumes: back them up separately.
ENV OPTOUT_DATABASE_PATH=/data/optout-bot.sqlite3 \
    OPTOUT_KEY_FILE=/keys/optout-bot.key \
    OPTOUT_HTTP_LISTEN=0.0.0.0:8080
VOLUME ["/data", "/keys"]
# /healthz, /readyz and /metrics for the operator's monitoring (not for the public)
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

# Needs OPTOUT_TELEGRAM_TOKEN; see .env.example for every setting.
CMD ["optout-bot", "run"]
