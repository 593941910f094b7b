# optout-bot: a normal (non-editable) install of the package -- its templates and catalogs are
# package data -- run as a non-root user, with the SQLite database on a volume.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY conversations ./conversations
COPY templates ./templates
RUN python -m pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 optout \
    && mkdir -p /data /keys && chown optout:optout /data /keys && chmod 700 /keys

USER optout
# The database and its encryption key live on separate volumes: back them up separately.
ENV OPTOUT_DATABASE_PATH=/data/optout-bot.sqlite3 \
    OPTOUT_KEY_FILE=/keys/optout-bot.key
VOLUME ["/data", "/keys"]

# Needs OPTOUT_TELEGRAM_TOKEN; see .env.example for every setting.
CMD ["optout-bot", "run"]
