# Sourced by the dev scripts: background processes go into `pids`; `stop_children` ends them all
# (SIGTERM, then waits). A script traps its own stop function, which calls this one.
pids=()
stop_children() {
  trap - INT TERM EXIT
  ((${#pids[@]})) && kill -TERM "${pids[@]}" 2>/dev/null || true
  wait || true
}
