#!/bin/bash
# nook's layers only point down: util <- runtime <- store <- image, net <- manager <- src.  A file may include
# its own layer and any lower one; an include of a higher (or sibling) layer fails this check (`make lint`).
# format/ (the Go-template engine) is presentation: it uses util only, and only the CLI (src/) uses it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rank () {
  case $1 in
  util) echo 0 ;; format | runtime) echo 1 ;; store) echo 2 ;; image | net) echo 3 ;; manager) echo 4 ;; src) echo 5 ;;
  *) echo 99 ;;
  esac
}

bad=0
for f in lib/*/*.[ch] src/*.[ch]; do
  case $f in src/*) layer=src ;; *) layer=${f#lib/}; layer=${layer%%/*} ;; esac
  r=$(rank "$layer")
  while read -r inc; do
    target=${inc%%/*}
    [ "$target" = "$layer" ] && continue
    if [ "$target" = format ] && [ "$layer" != src ]; then
      echo "layers: $f includes $inc (the template engine is for the CLI only)"
      bad=1
      continue
    fi
    if [ "$(rank "$target")" -ge "$r" ]; then
      echo "layers: $f includes $inc ($layer may only include lower layers)"
      bad=1
    fi
  done < <(sed -n 's/^#include "\([a-z_]*\/[^"]*\)".*/\1/p' "$f")
done
[ "$bad" = 0 ] && echo "layers: every include points down"
exit "$bad"
