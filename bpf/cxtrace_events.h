/* The kernel <-> userspace event ABI of cxtrace.
 *
 * Included by the BPF program (with vmlinux.h types) and by userspace (with
 * <linux/types.h>). Every struct has fixed-width fields, explicit padding and
 * a size check below, so both compilers agree byte for byte. The same bytes
 * are stored in trace.cxt files, so a layout change needs CXT_ABI_VERSION
 * bumped. No field ever carries a kernel address: address spaces are named by
 * small ids the BPF side assigns (see mm_ids in cxtrace.bpf.c).
 */
#ifndef CXTRACE_EVENTS_H
#define CXTRACE_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* 2 added CXT_EV_PID_NS; 3 added the runtimes to cxt_switch (its 48-byte
 * form, without them, still reads); 4 added what a task switched out to
 * wait was waiting in (cxt_switch's 64-byte form still reads), the
 * preemption flag and the wakeup's interrupt flag. Older traces still read. */
#define CXT_ABI_VERSION 4

#define CXT_COMM_LEN 16
#define CXT_FILENAME_LEN 256
#define CXT_ARGS_LEN 4096 /* argv bytes captured per exec; longer is flagged */

/* Every event kind, once: X(C_NAME, CppName, code, "name"). The code is
 * stored in trace.cxt files, so it never changes; new kinds take the next
 * one. The C enum below, the C++ EventKind and its names (userspace/core)
 * are generated from this list. */
#define CXT_EVENT_KINDS(X)                                                                    \
	X(SYSCALL_ENTER, SyscallEnter, 1, "syscall_enter") /* creator/execer enters clone..execveat */ \
	X(SYSCALL_EXIT, SyscallExit, 2, "syscall_exit")    /* ... and returns */                  \
	X(TASK_NEW, TaskNew, 3, "task_new")       /* task_newtask: a tracked task created a task */ \
	X(WAKEUP_NEW, WakeupNew, 4, "wakeup_new") /* sched_wakeup_new: new task first queued */  \
	X(SWITCH, Switch, 5, "switch")            /* sched_switch touching a tracked task */     \
	X(MIGRATE, Migrate, 6, "migrate")         /* sched_migrate_task of a tracked task */     \
	X(EXEC, Exec, 7, "exec")                  /* sched_process_exec */                       \
	X(EXIT, Exit, 8, "exit")                  /* sched_process_exit */                       \
	X(RENAME, Rename, 9, "rename")            /* task_rename: comm changed */                \
	X(WAKEUP, Wakeup, 10, "wakeup") /* sched_wakeup of a tracked task; since ABI 4 with its sched_waking's waker */ \
	X(PID_NS, PidNs, 11, "pid_ns") /* after TASK_NEW when the new task is in a child PID namespace */

enum cxt_event_kind {
#define CXT_KIND_ENUMERATOR(c_name, cpp_name, code, text) CXT_EV_##c_name = code,
	CXT_EVENT_KINDS(CXT_KIND_ENUMERATOR)
#undef CXT_KIND_ENUMERATOR
	CXT_EV_KIND_COUNT /* one past the last kind; sizes the drop map */
};

/* The syscalls whose entry and exit are reported (x86-64 numbers are looked
 * up at load time; these are cxtrace's own stable codes). */
enum cxt_syscall {
	CXT_SYS_CLONE = 1,
	CXT_SYS_CLONE3 = 2,
	CXT_SYS_FORK = 3,
	CXT_SYS_VFORK = 4,
	CXT_SYS_EXECVE = 5,
	CXT_SYS_EXECVEAT = 6,
};

/* Common header of every event. pid/tgid name the task the event is about
 * (for a switch: the task switched in if tracked, else the one switched out). */
struct cxt_header {
	__u64 ts_ns;   /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 pid;     /* kernel task id (gettid) */
	__u32 tgid;    /* thread group id (getpid) */
	__u16 kind;    /* enum cxt_event_kind */
	__u16 cpu;     /* CPU the event was recorded on */
	__u32 size;    /* bytes of the whole event as stored, header included */
};

struct cxt_syscall_enter {
	struct cxt_header h;
	__u32 syscall; /* enum cxt_syscall */
	__u32 mm_id;   /* address space of the caller; 0 for none */
	__u64 clone_flags; /* flags argument of clone; 0 for others */
};

struct cxt_syscall_exit {
	struct cxt_header h;
	__u32 syscall; /* enum cxt_syscall */
	__u32 pad;
	__s64 ret;     /* return value (pid in the caller's namespace, or -errno) */
};

struct cxt_task_new {
	struct cxt_header h; /* pid/tgid: the creator */
	__u64 clone_flags;
	__u64 child_start_ns; /* task->start_time (monotonic), its identity */
	__u32 child_pid;
	__u32 child_tgid;
	__u32 child_ppid;    /* tgid of the child's real_parent: its getppid() */
	__u32 child_mm_id;
	__u32 creator_mm_id;
	__u32 pad;
	char child_comm[CXT_COMM_LEN];
};

struct cxt_wakeup_new {
	struct cxt_header h; /* pid/tgid: the new task */
	__u32 target_cpu;
	__u32 pad;
};

#define CXT_SWITCH_PREV_TRACKED 1u
#define CXT_SWITCH_NEXT_TRACKED 2u
#define CXT_SWITCH_PREV_DEAD 4u /* prev switched out for the last time */
#define CXT_SWITCH_PREEMPT 8u   /* prev was preempted: it stays runnable whatever prev_state says (ABI 4) */

/* prev_syscall when prev was not in a system call (a page fault, ...). */
#define CXT_NO_SYSCALL (-1)

struct cxt_switch {
	struct cxt_header h;
	__u32 prev_pid;
	__u32 prev_tgid;
	__u32 next_pid;
	__u32 next_tgid;
	__u32 prev_state;
	__u32 flags; /* CXT_SWITCH_* */
	/* The kernel's own CPU-time clock of each tracked side
	 * (se.sum_exec_runtime, what CLOCK_THREAD_CPUTIME_ID reads): prev's
	 * including the interval now ending, next's as it starts. 0 for an
	 * untracked side. A rise between a task's switch-out and its next
	 * switch-in is CPU time no switch event showed. */
	__u64 prev_runtime_ns;
	__u64 next_runtime_ns;
	/* A tracked prev switched out to wait (not preempted, prev_state not
	 * running): the system call it waits in (x86-64 number, as in
	 * pt_regs->orig_ax; CXT_NO_SYSCALL for none), and for a futex wait
	 * the lock's id (lock_ids in cxtrace.bpf.c; never the address). 0
	 * otherwise. */
	__s32 prev_syscall;
	__u32 prev_lock_id;
};

/* cxt_switch as ABI versions 1 and 2 wrote it, without the runtimes. */
#define CXT_SWITCH_V2_SIZE 48
/* ... and as ABI version 3 did, without prev_syscall and prev_lock_id. */
#define CXT_SWITCH_V3_SIZE 64

struct cxt_migrate {
	struct cxt_header h; /* pid/tgid: the migrated task */
	__u32 orig_cpu;
	__u32 dest_cpu;
};

#define CXT_EXEC_ARGS_TRUNCATED 1u
#define CXT_EXEC_FILENAME_TRUNCATED 2u
#define CXT_EXEC_ARGS_UNREADABLE 4u

struct cxt_exec {
	struct cxt_header h; /* pid/tgid: after exec */
	__u32 old_pid;       /* differs from pid when a non-leader thread exec'd */
	__u32 mm_id;         /* the new address space */
	__u32 argc;
	__u32 args_total;    /* bytes of argv in the new process (NULs included) */
	__u32 args_len;      /* bytes captured in args[] */
	__u32 filename_len;  /* bytes used in filename[] (NUL included) */
	__u32 flags;         /* CXT_EXEC_* */
	__u32 pad;
	char comm[CXT_COMM_LEN];
	char filename[CXT_FILENAME_LEN];
	char args[CXT_ARGS_LEN]; /* argv strings, each NUL-terminated */
};

struct cxt_exit {
	struct cxt_header h;
	__s32 exit_code; /* task->exit_code: (status << 8) | signal | 0x80 core */
	__u32 group_dead; /* 1 when the last thread of the group exits */
	char comm[CXT_COMM_LEN];
};

struct cxt_rename {
	struct cxt_header h; /* pid/tgid: the renamed task */
	char old_comm[CXT_COMM_LEN];
	char new_comm[CXT_COMM_LEN];
};

/* The wakeup happened in interrupt context (a timer, a device, a softirq):
 * waker_pid is whoever happened to be running, not the waker (ABI 4). */
#define CXT_WAKEUP_IN_INTERRUPT 1u
/* Whether it did could not be read, or the waking was not seen: waker_pid
 * may not be the waker. */
#define CXT_WAKEUP_CONTEXT_UNKNOWN 2u

struct cxt_wakeup {
	struct cxt_header h; /* pid/tgid: the woken task */
	__u32 waker_pid;     /* the task running when the wakeup happened (0: idle) */
	__u32 waker_tgid;
	__u32 target_cpu;
	__u32 flags;         /* CXT_WAKEUP_*; 0 before ABI 4 */
};

/* The ids a task in a child PID namespace sees itself (what getpid() prints
 * inside a container or under unshare --pid): the header carries the
 * kernel's global ids, as every other event does. */
struct cxt_pid_ns {
	struct cxt_header h; /* pid/tgid: the new task, global ids */
	__u32 ns_pid;        /* gettid() inside its namespace */
	__u32 ns_tgid;       /* getpid() inside */
	__u32 ns_ppid;       /* getppid() inside; 0 when the parent is outside the namespace */
	__u32 level;         /* nesting depth; the initial namespace is 0 */
	__u32 ns_inum;       /* the namespace's inode number, as in ls -l /proc/PID/ns/pid */
	__u32 pad;
};

/* Stored exec events keep only the used part of args[]. */
#define CXT_EXEC_FIXED_SIZE (sizeof(struct cxt_exec) - CXT_ARGS_LEN)

#ifdef __cplusplus
#define CXT_STATIC_ASSERT static_assert
#else
#define CXT_STATIC_ASSERT _Static_assert
#endif
CXT_STATIC_ASSERT(sizeof(struct cxt_header) == 24, "cxt_header layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_syscall_enter) == 40, "syscall_enter layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_syscall_exit) == 40, "syscall_exit layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_task_new) == 80, "task_new layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_wakeup_new) == 32, "wakeup_new layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_switch) == 72, "switch layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_migrate) == 32, "migrate layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_exec) == 24 + 32 + 16 + 256 + 4096, "exec layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_exit) == 48, "exit layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_rename) == 56, "rename layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_wakeup) == 40, "wakeup layout");
CXT_STATIC_ASSERT(sizeof(struct cxt_pid_ns) == 48, "pid_ns layout");

#endif
