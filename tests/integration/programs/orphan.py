# A grandchild outlives its parent and is adopted by init (no subreaper):
# the middle process forks it and exits at once; the grandchild then prints
# what getppid() returned before and after. The report's ppid is the one at
# creation; the adoption is inferred from the middle's exit.
import os
import sys
import time

print(f"main: pid={os.getpid()}", flush=True)
read_end, write_end = os.pipe()
middle = os.fork()
if middle == 0:
    creator = os.getpid()
    if os.fork() == 0:
        os.close(read_end)
        deadline = time.monotonic() + 5
        while os.getppid() == creator and time.monotonic() < deadline:
            time.sleep(0.001)
        os.write(sys.stdout.fileno(),
                 f"grandchild: pid={os.getpid()} created_by={creator} adopted_by={os.getppid()}\n".encode())
        os.close(write_end)  # the main process waits for this
        os._exit(0)
    os._exit(0)
os.close(write_end)
os.waitpid(middle, 0)
os.read(read_end, 1)  # EOF once the grandchild is done: it is not our child to wait for
