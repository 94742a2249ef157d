"""Time commands against each other, round by round.

    interleave.py RUNS WARMUP OUT.json NAME=COMMAND...

Each round runs every command once, to completion, in turn (the order
reversed every other round), with no shell in between (COMMAND is split as
a shell would split words, without expansions) and its output discarded.
hyperfine runs all of one command's runs before the next command's, so a
change of the machine's load between the two halves moves their ratio
either way; taken in turns, every command sees the same load.  WARMUP
rounds come first and are not counted.  A command that fails stops the
run, with its standard error shown.  OUT.json has hyperfine's shape as far
as the benches read it: {"results": [{"command", "times", "median"}]},
times in seconds.
"""
import json
import shlex
import statistics
import subprocess
import sys
import time


def run(name, argv):
    start = time.perf_counter()
    done = subprocess.run(argv, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write("%s exited %d: %s\n" % (
            name, done.returncode, done.stderr.decode(errors="replace")))
        sys.exit(1)
    return took


def main():
    runs, warmup, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    commands = [arg.split("=", 1) for arg in sys.argv[4:]]
    times = {name: [] for name, _ in commands}
    for round_ in range(warmup + runs):
        order = commands if round_ % 2 == 0 else commands[::-1]
        for name, command in order:
            took = run(name, shlex.split(command))
            if round_ >= warmup:
                times[name].append(took)
    results = [{"command": name, "times": times[name],
                "median": statistics.median(times[name])}
               for name, _ in commands]
    with open(out, "w") as f:
        json.dump({"results": results}, f)


main()
