# Forks N children one after another, each exiting at once, and prints every
# child's pid: under a low pid_max the kernel hands the same pids out again.
import os
import sys

count = int(sys.argv[1])
pids = []
for _ in range(count):
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    pids.append(child)
sys.stdout.write("".join(f"child: pid={pid}\n" for pid in pids))
