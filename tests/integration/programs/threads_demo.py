# A student's threading program: every thread prints its process id and its
# kernel thread id.
import os
import sys
import threading

def work(k):
    # One write per line: print() writes the text and the newline separately,
    # so lines from concurrent threads could run together.
    sys.stdout.write(f"thread {k}: pid={os.getpid()} tid={threading.get_native_id()}\n")
    sys.stdout.flush()

print(f"main: pid={os.getpid()} tid={threading.get_native_id()} ppid={os.getppid()}", flush=True)
threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
