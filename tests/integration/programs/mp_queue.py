# A student's multiprocessing Queue program: a writer process puts 5
# messages, a reader process gets them until it is terminated. The Queue
# starts a feeder thread in the writer the first time it puts: the program
# itself starts no thread.
import multiprocessing
import os
import sys
import time

def say(text):
    # One write per line, so lines from the processes never run together.
    os.write(sys.stdout.fileno(), (text + "\n").encode())

def writer(queue):
    say(f"writer: pid={os.getpid()} ppid={os.getppid()}")
    for k in range(5):
        queue.put(f"message {k}")

def reader(queue):
    say(f"reader: pid={os.getpid()} ppid={os.getppid()}")
    while True:
        say(f"reader got: {queue.get()}")

if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    say(f"main: pid={os.getpid()}")
    queue = multiprocessing.Queue()
    w = multiprocessing.Process(target=writer, args=(queue,))
    r = multiprocessing.Process(target=reader, args=(queue,))
    w.start()
    r.start()
    w.join()
    while not queue.empty():
        time.sleep(0.01)  # let the reader drain the queue before it is terminated
    r.terminate()
    r.join()
    say(f"reader exit code: {r.exitcode}")
