# A subreaper adopts its grandchild: the middle process exits first, and the
# grandchild, once reparented, prints its new getppid(). Reparenting must not
# be mistaken for a new task.
import ctypes
import os
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
reaper = os.getpid()
print(f"subreaper: pid={reaper}", flush=True)

middle = os.fork()
if middle == 0:
    creator = os.getpid()  # not the grandchild's getppid(): it may be adopted already
    grandchild = os.fork()
    if grandchild == 0:
        deadline = time.monotonic() + 120  # the middle exits at once; a busy machine may delay it
        while os.getppid() == creator and time.monotonic() < deadline:
            time.sleep(0.001)
        sys.stdout.write(f"grandchild: pid={os.getpid()} created_by={creator} adopted_by={os.getppid()}\n")
        sys.stdout.flush()
        os._exit(0)
    os._exit(0)

os.waitpid(middle, 0)
adopted, _ = os.wait()  # the grandchild, now ours
print(f"reaped: pid={adopted}", flush=True)
