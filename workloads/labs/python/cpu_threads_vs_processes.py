# CPU-bound work in Python, as a textbook writes it: the same loop in N
# threads, then in N processes (multiprocessing). Usage:
#     python3 cpu_threads_vs_processes.py WORKERS LOOPS
# Each phase starts with a marker cxtrace reads (the main thread renamed to
# "@threads", "@processes" for a moment): the report gives each its figures.
import multiprocessing
import sys
import threading
import time


def phase(name):
    with open("/proc/thread-self/comm") as f:
        own = f.read().strip()
    for comm in ("@" + name, own):
        with open("/proc/thread-self/comm", "w") as f:
            f.write(comm)


def count(loops):
    total = 0
    for i in range(loops):
        total += i * i
    return total


def run(kind, label, workers, loops):
    start = time.perf_counter()
    tasks = [kind(target=count, args=(loops,)) for _ in range(workers)]
    for t in tasks:
        t.start()
    for t in tasks:
        t.join()
    print(f"{workers} {label}: {time.perf_counter() - start:.2f} s", flush=True)


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    workers, loops = int(sys.argv[1]), int(sys.argv[2])
    phase("threads")
    run(threading.Thread, "threads", workers, loops)
    phase("processes")
    run(multiprocessing.Process, "processes", workers, loops)
