#!/bin/sh
# Start the postgres image with credentials taken from the app's DATABASE_URL.
#
# The URL in .env is the one source of truth: the postgres image's POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB are derived from it here, so the database and
# the app can never disagree. Expects postgres://USER:PASSWORD@HOST:PORT/NAME with a
# URL-safe password (letters and digits, e.g. `openssl rand -hex 24`).
set -eu

url="${DATABASE_URL:?DATABASE_URL is not set (see .env.example)}"
case "$url" in
    postgres://*@*/* | postgresql://*@*/*) ;;
    *) echo "DATABASE_URL must look like postgres://USER:PASSWORD@postgres:5432/NAME" >&2; exit 64 ;;
esac
rest="${url#*://}"
credentials="${rest%%@*}"
location="${rest#*@}"
POSTGRES_USER="${credentials%%:*}"
POSTGRES_PASSWORD="${credentials#*:}"
POSTGRES_DB="${location#*/}"
POSTGRES_DB="${POSTGRES_DB%%\?*}"

for value in "$POSTGRES_USER" "$POSTGRES_PASSWORD" "$POSTGRES_DB"; do
    case "$value" in
        "" | *%* | *:* | */*)
            echo "DATABASE_URL needs a user, a password and a database name without" \
                "percent-escapes, ':' or '/'" >&2
            exit 64
            ;;
    esac
done
if [ "$POSTGRES_PASSWORD" = "$credentials" ]; then
    echo "DATABASE_URL has no password" >&2
    exit 64
fi

export POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB
unset DATABASE_URL
exec docker-entrypoint.sh "$@"
