# A multiprocessing Pool, as a textbook writes it: WORKERS processes square
# JOBS numbers. Usage: python3 pool_squares.py WORKERS JOBS
import multiprocessing
import os
import sys


def square(x):
    return x * x


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    workers, jobs = int(sys.argv[1]), int(sys.argv[2])
    print(f"main: pid={os.getpid()}", flush=True)
    with multiprocessing.Pool(workers) as pool:
        print("squares:", pool.map(square, range(jobs), chunksize=1), flush=True)
