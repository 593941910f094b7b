# optout-bot: the same install as the README's Quick start, run as a non-root user,
# with the SQLite database on a volume.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY conversations ./conversations
COPY templates ./templates
RUN python -m pip install --no-cache-dir -e . \
    && useradd --create-home --uid 10001 optout \
    && mkdir -p /data && chown optout:optout /data

USER optout
ENV OPTOUT_DATABASE_PATH=/data/optout-bot.sqlite3
VOLUME ["/data"]

# Needs OPTOUT_TELEGRAM_TOKEN; see .env.example for every setting.
CMD ["optout-bot", "run"]
