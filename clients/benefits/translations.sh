#!/usr/bin/env bash
# Keep the benefits app's Indonesian catalogue in step with its source: extract, update, compile.
# English is the source language, so only `id` has a catalogue. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
BABEL=.venv/bin/pybabel
DIR=clients/benefits/translations
POT=$(mktemp --suffix=.pot)
trap 'rm -f "$POT"' EXIT

extract() { "$BABEL" -q extract -F clients/benefits/babel.cfg -k _l -k lazy_gettext -o "$POT" . ; }
update() {
  if [ -f "$DIR/id/LC_MESSAGES/messages.po" ]; then
    "$BABEL" -q update -N -i "$POT" -d "$DIR" -l id
  else
    "$BABEL" -q init -i "$POT" -d "$DIR" -l id
  fi
}
compile() { "$BABEL" -q compile -d "$DIR"; }

case "${1:-all}" in
  extract) extract ;;
  update) extract; update ;;
  compile) compile ;;
  all) extract; update; compile ;;
  *) echo "usage: clients/benefits/translations.sh [extract|update|compile|all]" >&2; exit 2 ;;
esac
