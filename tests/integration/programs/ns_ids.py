# Run inside a new PID namespace (unshare --pid --fork): prints the ids the
# main task, a thread and a forked child see of themselves.
import os
import sys
import threading


def say(who):
    # One write per line, so lines from threads never run together.
    sys.stdout.write(f"{who}: pid={os.getpid()} tid={threading.get_native_id()} ppid={os.getppid()}\n")
    sys.stdout.flush()


say("main")
thread = threading.Thread(target=say, args=("thread",))
thread.start()
thread.join()
child = os.fork()
if child == 0:
    say("child")
    os._exit(0)
os.waitpid(child, 0)
