#!/usr/bin/env bash
# Run a command; print its wall time and its peak RssAnon (anonymous memory: buffers, not the
# mapped file's page-cache pages) and VmHWM (all resident, mapped file pages included), sampled every 20 ms.
"$@" & pid=$!
anon=0; hwm=0
while kill -0 $pid 2>/dev/null; do
  a=$(awk '/RssAnon/{print $2}' /proc/$pid/status 2>/dev/null); h=$(awk '/VmHWM/{print $2}' /proc/$pid/status 2>/dev/null)
  [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a; [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
  sleep 0.02
done
wait $pid; rc=$?
echo "peak RssAnon ${anon} KB, VmHWM ${hwm} KB, rc $rc"
