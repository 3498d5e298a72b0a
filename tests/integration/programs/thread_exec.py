# A thread that is not its group's leader calls exec: the kernel ends the
# other threads and the exec'ing thread takes the leader's pid (the tgid).
# It prints its tid before the exec, and the new program prints its pid.
import os
import sys
import threading

def run():
    os.write(sys.stdout.fileno(), f"thread: tid={threading.get_native_id()} pid={os.getpid()}\n".encode())
    os.execv("/bin/sh", ["sh", "-c", 'echo "after exec: pid=$$"'])

print(f"main: pid={os.getpid()}", flush=True)
threading.Thread(target=run).start()
threading.Event().wait(10)  # ended by the thread's exec
