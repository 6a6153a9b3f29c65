#!/usr/bin/env bash
# Nightly logical backup of the portal's database (deploy/BACKUP.md).
# Needs: PGHOST, PGDATABASE (and PGUSER/PGPASSWORD or .pgpass), BACKUP_DIR; optional BACKUP_S3_URI.
set -euo pipefail
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
file="${BACKUP_DIR:?}/mypage-${stamp}.dump"
mkdir -p "$BACKUP_DIR"
# Custom format: compressed, restorable table by table, in parallel.
pg_dump --format=custom --compress=6 --no-owner --file="$file.part" "${PGDATABASE:?}"
pg_restore --list "$file.part" >/dev/null   # the archive is readable
mv "$file.part" "$file"
if [ -n "${BACKUP_S3_URI:-}" ]; then
  aws s3 cp --only-show-errors --sse aws:kms "$file" "$BACKUP_S3_URI/"
fi
# Keep 14 nights on the host; S3 keeps longer by its lifecycle rule.
find "$BACKUP_DIR" -name 'mypage-*.dump' -mtime +14 -delete
echo "backup written: $file"
