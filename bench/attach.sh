#!/usr/bin/env bash
# Terminals: the attach round trip, a key typed into `strata attach` on a
# pty until its echo (by the container's terminal) is back on screen:
# CLI (raw mode) → attach socket → monitor → pty master → line discipline
# echo → monitor → CLI. The median of ROUNDS (default 200) in microseconds.
# Then the memory of the monitor of an idle `run -dit busybox sh` (it holds
# the pty master and serves the attach socket).
source "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-200}
s=("$strata" --root "$work/root" --runroot "$work/run")
cleanup() {
	"${s[@]}" rm -f $("${s[@]}" ps -aq) >/dev/null 2>&1 || true
	rm -rf "$work"
}
go run ./hack/mkbusybox | "${s[@]}" import --change 'CMD ["sh"]' - busybox:latest >/dev/null
id=$("${s[@]}" run -dit busybox sh)
pid=$(sed -n 's/.*"MonitorPid":\([0-9]*\).*/\1/p' "$work/root/containers/$id/state.json")
sleep 1 # let the shell settle: the idle monitor is what is measured
echo "monitor of an idle run -dit busybox sh: $(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status") VmRSS (pid $pid)"
python3 - "$rounds" "${s[@]}" attach "$id" <<'PY'
import os, pty, select, sys, time
rounds, argv = int(sys.argv[1]), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
def wait_for(want, limit=10.0):
    seen, end = b"", time.time() + limit
    while want not in seen:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            sys.exit("no echo of %r" % want)
        seen += os.read(fd, 4096)
os.write(fd, b"\x15")  # an empty line to start from (ctrl-u)
time.sleep(0.5)
samples = []
for i in range(rounds):
    key = b"abcdefghij"[i % 10:i % 10 + 1]
    start = time.perf_counter_ns()
    os.write(fd, key)
    wait_for(key)
    samples.append((time.perf_counter_ns() - start) // 1000)
os.write(fd, b"\x15\x10\x11")  # clear the line, detach
os.waitpid(pid, 0)
samples.sort()
print("attach round trip (key → echo): median %d us over %d rounds (min %d, p90 %d, max %d)"
      % (samples[len(samples) // 2], rounds, samples[0], samples[len(samples) * 9 // 10], samples[-1]))
PY
"${s[@]}" rm -f "$id" >/dev/null
