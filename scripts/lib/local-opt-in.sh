# Sourced: exports the local opt-in of scripts/lib/local-opt-in.env, each key only where the
# environment does not set it already (an operator's own value wins).
while IFS='=' read -r key value; do
  [[ -z $key || $key == \#* ]] && continue
  export "$key=${!key:-$value}"
done <"$(dirname "${BASH_SOURCE[0]}")/local-opt-in.env"
