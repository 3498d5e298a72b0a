# A student's multiprocessing program: a pool of 3 worker processes squares
# 9 numbers; each task says which worker process ran it.
import multiprocessing
import os
import sys

def square(x):
    # One write per line, so lines from the workers never run together.
    os.write(sys.stdout.fileno(), f"task {x}: worker pid={os.getpid()} ppid={os.getppid()}\n".encode())
    return x * x

if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    print(f"main: pid={os.getpid()}", flush=True)
    with multiprocessing.Pool(3) as pool:
        print("results:", pool.map(square, range(9), chunksize=1), flush=True)
