# Two processes share one CPU and hand it to each other with sched_yield():
# hundreds of thousands of context switches in about a second, more than
# report.html embeds one by one, so its timeline is binned.
import os
import sys

yields = int(sys.argv[1]) if len(sys.argv) > 1 else 80000
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
child = os.fork()
for _ in range(yields):
    os.sched_yield()
if child:
    os.waitpid(child, 0)
