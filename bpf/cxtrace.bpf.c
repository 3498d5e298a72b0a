// SPDX-License-Identifier: GPL-2.0
/* cxtrace kernel side: watches task creation, exec, exit and scheduling of
 * one command and its descendants, and streams fixed-layout events
 * (cxtrace_events.h) through one BPF ring buffer.
 *
 * BTF tracepoints (tp_btf) everywhere but syscall entry/exit: they need no
 * tracefs mount and hand us typed task_struct pointers. Syscalls can also
 * use the per-syscall classic tracepoints, on request (see below).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cxtrace_events.h"

char LICENSE[] SEC("license") = "GPL";

#define CLONE_VM 0x00000100ULL
#define TASK_DEAD 0x00000080U

/* x86-64 syscall numbers; this program is built for x86 only (see
 * CMakeLists.txt, -D__TARGET_ARCH_x86). */
#define NR_CLONE 56
#define NR_FORK 57
#define NR_VFORK 58
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define NR_CLONE3 435
#define NR_FUTEX 202

/* futex(2) operations that wait on the word at uaddr (FUTEX_CMD_MASK
 * strips the private and clock flags). */
#define FUTEX_CMD_MASK (~(128 | 256))
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13

/* in_interrupt() without the softirq-disabled count: a hard or soft
 * interrupt or an NMI is being served (include/linux/preempt.h). */
#define SOFTIRQ_OFFSET 0x00000100U
#define HARDIRQ_MASK 0x000f0000U
#define NMI_MASK 0x00f00000U

/* Set by userspace between open and load. */
const volatile __u64 wakeup_bytes = 1 << 20; /* wake the reader past this much data */
/* Where a CPU's preempt count lies from its runqueue: both are per-CPU
 * variables, a fixed distance apart (their offsets in the kernel BTF's
 * .data..percpu). 0: not known. */
const volatile __s64 preempt_count_from_rq = 0;

/* Tasks we follow: one bit per pid (bit pid % 64 of word pid / 64), for
 * every pid the kernel can hand out (PID_MAX_LIMIT, 4 Mi: 512 KiB). Seeded
 * by userspace with the held command, set on task_newtask, cleared when a
 * task switches out dead. An array lookup is inlined by the verifier: an
 * untracked switch costs two loads and a bit test, no hashing. */
#define CXT_PID_LIMIT (4u << 20)
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CXT_PID_LIMIT / 64);
	__type(key, __u32);
	__type(value, __u64);
} tracked SEC(".maps");

/* mm_struct address -> small id. The address stays in the kernel; only the
 * id is sent. A fresh id is assigned whenever an address space is born
 * (fork without CLONE_VM, exec), so a recycled address gets a new id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} mm_ids SEC(".maps");

__u32 next_mm_id = 0;

/* (address space, futex word address) -> small lock id, for the waits of
 * tracked tasks in futex(2). As with mm_ids, only the id leaves the kernel.
 * A lock shared between processes sits at its own address in each, so it
 * gets an id per address space. */
struct lock_key {
	__u64 mm;
	__u64 uaddr;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct lock_key);
	__type(value, __u32);
} lock_ids SEC(".maps");

__u32 next_lock_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by userspace (--ring-buffer-size) */
} events SEC(".maps");

/* Failed reservations per event kind, per CPU: the ring buffer itself never
 * says it dropped anything. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CXT_EV_KIND_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Events submitted per kind, per CPU: lets userspace prove it received
 * everything the kernel side sent. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CXT_EV_KIND_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} submitted SEC(".maps");

/* The bitmap word holding pid's bit (NULL only past the map's end). */
static __always_inline __u64 *tracked_word(__u32 pid)
{
	__u32 word = pid / 64;

	return bpf_map_lookup_elem(&tracked, &word);
}

static __always_inline bool is_tracked(__u32 pid)
{
	__u64 *bits = tracked_word(pid);

	return pid != 0 && bits && (*bits & (1ULL << (pid % 64)));
}

static __always_inline void set_tracked(__u32 pid)
{
	__u64 *bits = tracked_word(pid);

	if (bits)
		__sync_fetch_and_or(bits, 1ULL << (pid % 64));
}

static __always_inline void clear_tracked(__u32 pid)
{
	__u64 *bits = tracked_word(pid);

	if (bits)
		__sync_fetch_and_and(bits, ~(1ULL << (pid % 64)));
}

static __always_inline __u32 mm_id_of(struct mm_struct *mm, bool born_now)
{
	__u64 key = (__u64)mm;
	__u32 *known, id;

	if (!mm)
		return 0;
	if (!born_now) {
		known = bpf_map_lookup_elem(&mm_ids, &key);
		if (known)
			return *known;
	}
	id = __sync_fetch_and_add(&next_mm_id, 1) + 1;
	bpf_map_update_elem(&mm_ids, &key, &id, BPF_ANY);
	return id;
}

static __always_inline __u32 lock_id_of(struct mm_struct *mm, __u64 uaddr)
{
	struct lock_key key = { .mm = (__u64)mm, .uaddr = uaddr };
	__u32 *known, id;

	known = bpf_map_lookup_elem(&lock_ids, &key);
	if (known)
		return *known;
	id = __sync_fetch_and_add(&next_lock_id, 1) + 1;
	bpf_map_update_elem(&lock_ids, &key, &id, BPF_ANY);
	return id;
}

/* What a task switched out to wait is waiting in: the system call (from
 * its saved user registers) and, for a futex wait, the lock. Read only for
 * tracked tasks that leave a CPU to wait. */
static __always_inline void note_wait(struct cxt_switch *e, struct task_struct *task)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long nr, op;

	e->prev_syscall = CXT_NO_SYSCALL;
	e->prev_lock_id = 0;
	if (!regs)
		return;
	nr = regs->orig_ax;
	if (nr < 0)
		return; /* not in a system call: a page fault, say */
	e->prev_syscall = nr;
	if (nr != NR_FUTEX)
		return;
	op = regs->si & FUTEX_CMD_MASK;
	if (op == FUTEX_WAIT || op == FUTEX_WAIT_BITSET || op == FUTEX_LOCK_PI || op == FUTEX_LOCK_PI2 ||
	    op == FUTEX_WAIT_REQUEUE_PI)
		e->prev_lock_id = lock_id_of(task->mm, regs->di);
}

/* Whether a wakeup happens in an interrupt (a timer, a device, a softirq),
 * where the running task is not the waker: this CPU's preempt count, found
 * from the current task's runqueue (the count's own symbol cannot be
 * resolved on a kernel without CONFIG_KALLSYMS_ALL). */
static __always_inline __u32 wakeup_context(struct task_struct *current)
{
	__u64 rq;
	int count;

	if (!preempt_count_from_rq)
		return CXT_WAKEUP_CONTEXT_UNKNOWN;
	/* current is a trusted BTF pointer: plain loads (the verifier makes
	 * them fault-safe), not a helper call per hop. */
	rq = (__u64)current->se.cfs_rq->rq;
	if (!rq || bpf_probe_read_kernel(&count, sizeof(count), (void *)(rq + preempt_count_from_rq)))
		return CXT_WAKEUP_CONTEXT_UNKNOWN;
	return (count & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET)) ? CXT_WAKEUP_IN_INTERRUPT : 0;
}

static __always_inline void *reserve_event(__u32 size, __u32 kind)
{
	void *event = bpf_ringbuf_reserve(&events, size, 0);

	if (!event) {
		__u64 *lost = bpf_map_lookup_elem(&drops, &kind);
		if (lost)
			*lost += 1;
	}
	return event;
}

/* Batch wakeups: waking the reader per event costs more than the event. The
 * reader also drains on a short timer, so nothing waits long.
 *
 * Asking how much is pending reads the consumer position, a cache line the
 * reader writes on every drain: a miss on most events. So a CPU asks only
 * on every 16th event of a kind, and on every exec (4 KiB each): wakeup_bytes
 * is a sixteenth of the buffer, far above what 16 events add. */
static __always_inline void submit_event(void *event)
{
	__u32 kind = ((struct cxt_header *)event)->kind;
	__u64 *sent = bpf_map_lookup_elem(&submitted, &kind);
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u64 n = 0;

	if (sent)
		n = *sent += 1;
	if ((n & 15) == 0 || kind == CXT_EV_EXEC)
		if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
			flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(event, flags);
}

static __always_inline void fill_header(struct cxt_header *h, __u32 kind, __u32 size,
					__u32 pid, __u32 tgid)
{
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = pid;
	h->tgid = tgid;
	h->kind = kind;
	h->cpu = bpf_get_smp_processor_id();
	h->size = size;
}

/* task->comm as two direct 8-byte loads from the BTF pointer instead of a
 * string probe-read helper call. The kernel keeps comm NUL-terminated and
 * NUL-padded (strscpy_pad), so the 16 bytes are the same string. */
static __always_inline void copy_comm(char *out, struct task_struct *task)
{
	const __u64 *words = (const __u64 *)task->comm;

	((__u64 *)out)[0] = words[0];
	((__u64 *)out)[1] = words[1];
}

/* A direct load: task is a BTF pointer here, no probe-read helper call. */
static __always_inline __u32 task_cpu_of(struct task_struct *task)
{
	if (bpf_core_field_exists(task->thread_info.cpu))
		return task->thread_info.cpu;
	return 0;
}

static __always_inline __u32 cxt_syscall_of(long nr)
{
	switch (nr) {
	case NR_CLONE: return CXT_SYS_CLONE;
	case NR_CLONE3: return CXT_SYS_CLONE3;
	case NR_FORK: return CXT_SYS_FORK;
	case NR_VFORK: return CXT_SYS_VFORK;
	case NR_EXECVE: return CXT_SYS_EXECVE;
	case NR_EXECVEAT: return CXT_SYS_EXECVEAT;
	default: return 0;
	}
}

static __always_inline void syscall_enter(__u32 syscall, __u64 first_arg)
{
	struct task_struct *task;
	struct cxt_syscall_enter *e;
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!is_tracked((__u32)pid_tgid))
		return;
	e = reserve_event(sizeof(*e), CXT_EV_SYSCALL_ENTER);
	if (!e)
		return;
	fill_header(&e->h, CXT_EV_SYSCALL_ENTER, sizeof(*e), (__u32)pid_tgid, pid_tgid >> 32);
	task = bpf_get_current_task_btf();
	e->syscall = syscall;
	e->mm_id = mm_id_of(task->mm, false);
	e->clone_flags = syscall == CXT_SYS_CLONE ? first_arg : 0;
	submit_event(e);
}

static __always_inline void syscall_exit(__u32 syscall, long ret)
{
	struct cxt_syscall_exit *e;
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!is_tracked((__u32)pid_tgid))
		return;
	e = reserve_event(sizeof(*e), CXT_EV_SYSCALL_EXIT);
	if (!e)
		return;
	fill_header(&e->h, CXT_EV_SYSCALL_EXIT, sizeof(*e), (__u32)pid_tgid, pid_tgid >> 32);
	e->syscall = syscall;
	e->pad = 0;
	e->ret = ret;
	submit_event(e);
}

/* Syscall entry and exit, two ways; userspace loads one set (see
 * bpf_tracer.cpp: the tp_btf pair by default).
 *
 * On request (--syscall-tracepoints): the classic per-syscall tracepoints syscalls:sys_enter_clone,
 * sys_exit_clone, ... for the six syscalls, so no program runs for any other
 * syscall on the machine. Their ids come from tracefs, so userspace attaches
 * these by hand (bare SEC("tracepoint"): one program, several perf events).
 * The kernel refuses a program that reads past a tracepoint's record, and
 * fork/vfork have no arguments: only clone's program reads args[0]. */
SEC("tracepoint")
int on_sys_enter_clone_tp(struct syscall_trace_enter *ctx)
{
	syscall_enter(CXT_SYS_CLONE, ctx->args[0]);
	return 0;
}

SEC("tracepoint")
int on_sys_enter_tp(struct syscall_trace_enter *ctx)
{
	__u32 syscall = cxt_syscall_of(ctx->nr);

	if (syscall)
		syscall_enter(syscall, 0);
	return 0;
}

SEC("tracepoint")
int on_sys_exit_tp(struct syscall_trace_exit *ctx)
{
	__u32 syscall = cxt_syscall_of(ctx->nr);

	if (syscall)
		syscall_exit(syscall, ctx->ret);
	return 0;
}

/* Default, and the fallback without tracefs: the global BTF tracepoints,
 * which fire for every syscall of every task and filter by number first. */
SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long nr)
{
	__u32 syscall = cxt_syscall_of(nr);

	if (syscall)
		syscall_enter(syscall, regs->di);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 syscall = cxt_syscall_of(regs->orig_ax);

	if (syscall)
		syscall_exit(syscall, ret);
	return 0;
}

/* The number of a struct pid at one namespace level, 0 when it has none
 * there. numbers[] is a flexible array indexed by a runtime level, which
 * the verifier does not allow on BTF pointers: read it as plain memory. */
static __always_inline int upid_at(struct pid *pid, __u32 level, struct upid *out)
{
	unsigned long base;

	if (!pid || BPF_CORE_READ(pid, level) < level)
		return -1;
	base = (unsigned long)pid + bpf_core_field_offset(struct pid, numbers);
	return bpf_probe_read_kernel(out, sizeof(*out), (void *)(base + level * sizeof(struct upid)));
}

/* What the new task sees of its own ids when it lives in a child PID
 * namespace; nothing is sent for the initial namespace (level 0). */
static __always_inline void send_pid_ns(struct task_struct *task)
{
	struct pid *own = task->thread_pid;
	struct upid mine, leader, parent;
	struct cxt_pid_ns *e;
	__u32 level;

	if (!own)
		return;
	level = own->level;
	if (level == 0 || upid_at(own, level, &mine))
		return;
	e = reserve_event(sizeof(*e), CXT_EV_PID_NS);
	if (!e)
		return;
	fill_header(&e->h, CXT_EV_PID_NS, sizeof(*e), task->pid, task->tgid);
	e->ns_pid = mine.nr;
	e->ns_tgid = upid_at(task->group_leader->thread_pid, level, &leader) == 0 && leader.ns == mine.ns
			     ? leader.nr : 0;
	e->ns_ppid = upid_at(task->real_parent->group_leader->thread_pid, level, &parent) == 0 &&
			     parent.ns == mine.ns ? parent.nr : 0;
	e->level = level;
	e->ns_inum = BPF_CORE_READ(mine.ns, ns.inum);
	e->pad = 0;
	submit_event(e);
}

/* Fires in the creator's context at the end of copy_process, before the new
 * task can run: the place to start following it. */
SEC("tp_btf/task_newtask")
int BPF_PROG(on_task_newtask, struct task_struct *task, __u64 clone_flags)
{
	struct task_struct *creator = bpf_get_current_task_btf();
	struct cxt_task_new *e;
	__u32 child_pid = task->pid;

	if (!is_tracked(creator->pid))
		return 0;
	set_tracked(child_pid);
	e = reserve_event(sizeof(*e), CXT_EV_TASK_NEW);
	if (!e)
		return 0;
	fill_header(&e->h, CXT_EV_TASK_NEW, sizeof(*e), creator->pid, creator->tgid);
	e->clone_flags = clone_flags;
	e->child_start_ns = task->start_time;
	e->child_pid = child_pid;
	e->child_tgid = task->tgid;
	e->child_ppid = task->real_parent->tgid;
	e->creator_mm_id = mm_id_of(creator->mm, false);
	/* CLONE_VM: the child runs in the creator's mm, no second lookup. */
	e->child_mm_id = (clone_flags & CLONE_VM) && task->mm == creator->mm
				 ? e->creator_mm_id
				 : mm_id_of(task->mm, !(clone_flags & CLONE_VM));
	e->pad = 0;
	copy_comm(e->child_comm, task);
	submit_event(e);
	send_pid_ns(task);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_sched_wakeup_new, struct task_struct *task)
{
	struct cxt_wakeup_new *e;

	if (!is_tracked(task->pid))
		return 0;
	e = reserve_event(sizeof(*e), CXT_EV_WAKEUP_NEW);
	if (!e)
		return 0;
	fill_header(&e->h, CXT_EV_WAKEUP_NEW, sizeof(*e), task->pid, task->tgid);
	e->target_cpu = task_cpu_of(task);
	e->pad = 0;
	submit_event(e);
	return 0;
}

/* Who is waking a tracked task, kept from sched_waking until its
 * sched_wakeup: the two halves of one wakeup. In the task's own storage: a
 * hash map's update and delete per wakeup cost four times as much. */
struct waker {
	__u32 pid;
	__u32 tgid;
	__u32 flags; /* CXT_WAKEUP_* */
	__u32 pending; /* set at sched_waking, taken at sched_wakeup */
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct waker);
} wakers SEC(".maps");

/* A tracked task is being woken: who woke it shows how tasks talk (pipes,
 * locks, signals). sched_waking runs in the waker's context (sched_wakeup
 * may run on the woken task's CPU, under whatever task runs there): the
 * waker is read here. In interrupt context the running task is not the
 * waker either: flagged, so that a timer is never taken for a traced task. */
SEC("tp_btf/sched_waking")
int BPF_PROG(on_sched_waking, struct task_struct *task)
{
	__u64 current_ids;
	struct waker *waker;

	if (!is_tracked(task->pid))
		return 0;
	waker = bpf_task_storage_get(&wakers, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!waker)
		return 0;
	current_ids = bpf_get_current_pid_tgid();
	waker->pid = (__u32)current_ids;
	waker->tgid = current_ids >> 32;
	/* An untracked waker is outside the trace in any context. */
	waker->flags = is_tracked(waker->pid) ? wakeup_context(bpf_get_current_task_btf()) : 0;
	waker->pending = 1;
	return 0;
}

/* ... and sched_wakeup, when it is queued to run: the event is sent here, at
 * the moment the kernel starts counting its wait for a CPU (schedstat's
 * run_delay), which can be well after sched_waking when the woken task's
 * CPU had to be woken from idle first. */
SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_sched_wakeup, struct task_struct *task)
{
	__u32 pid = task->pid;
	struct cxt_wakeup *e;
	struct waker *waker;

	if (!is_tracked(pid))
		return 0;
	e = reserve_event(sizeof(*e), CXT_EV_WAKEUP);
	if (!e)
		return 0;
	fill_header(&e->h, CXT_EV_WAKEUP, sizeof(*e), pid, task->tgid);
	waker = bpf_task_storage_get(&wakers, task, 0, 0);
	if (waker && waker->pending) {
		e->waker_pid = waker->pid;
		e->waker_tgid = waker->tgid;
		e->flags = waker->flags;
		waker->pending = 0;
	} else { /* its sched_waking was not seen: who woke it is not known */
		e->waker_pid = 0;
		e->waker_tgid = 0;
		e->flags = CXT_WAKEUP_CONTEXT_UNKNOWN;
	}
	e->target_cpu = task_cpu_of(task);
	submit_event(e);
	return 0;
}

/* The hot path: runs on every context switch of the machine. Untracked
 * switches cost two bit tests and nothing else. prev_state is the
 * tracepoint argument added in Linux 5.18. */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u32 prev_pid = prev->pid, next_pid = next->pid;
	__u32 flags = 0;
	struct cxt_switch *e;

	if (is_tracked(prev_pid))
		flags |= CXT_SWITCH_PREV_TRACKED | (preempt ? CXT_SWITCH_PREEMPT : 0);
	if (is_tracked(next_pid))
		flags |= CXT_SWITCH_NEXT_TRACKED;
	if (!flags)
		return 0;
	if ((flags & CXT_SWITCH_PREV_TRACKED) && (prev_state & TASK_DEAD)) {
		flags |= CXT_SWITCH_PREV_DEAD;
		clear_tracked(prev_pid);
	}
	e = reserve_event(sizeof(*e), CXT_EV_SWITCH);
	if (!e)
		return 0;
	if (flags & CXT_SWITCH_NEXT_TRACKED)
		fill_header(&e->h, CXT_EV_SWITCH, sizeof(*e), next_pid, next->tgid);
	else
		fill_header(&e->h, CXT_EV_SWITCH, sizeof(*e), prev_pid, prev->tgid);
	e->prev_pid = prev_pid;
	e->prev_tgid = prev->tgid;
	e->next_pid = next_pid;
	e->next_tgid = next->tgid;
	e->prev_state = prev_state;
	e->flags = flags;
	e->prev_runtime_ns = (flags & CXT_SWITCH_PREV_TRACKED) ? prev->se.sum_exec_runtime : 0;
	e->next_runtime_ns = (flags & CXT_SWITCH_NEXT_TRACKED) ? next->se.sum_exec_runtime : 0;
	if ((flags & CXT_SWITCH_PREV_TRACKED) && !preempt && prev_state && !(prev_state & TASK_DEAD)) {
		note_wait(e, prev);
	} else {
		e->prev_syscall = 0;
		e->prev_lock_id = 0;
	}
	submit_event(e);
	return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(on_sched_migrate_task, struct task_struct *task, int dest_cpu)
{
	struct cxt_migrate *e;

	if (!is_tracked(task->pid))
		return 0;
	e = reserve_event(sizeof(*e), CXT_EV_MIGRATE);
	if (!e)
		return 0;
	fill_header(&e->h, CXT_EV_MIGRATE, sizeof(*e), task->pid, task->tgid);
	e->orig_cpu = task_cpu_of(task);
	e->dest_cpu = dest_cpu;
	submit_event(e);
	return 0;
}

/* After a successful exec: the new mm is installed and argv sits at
 * mm->arg_start..arg_end in the new user stack. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_sched_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct cxt_exec *e;
	unsigned long arg_start, arg_end;
	__u32 total, len;
	long copied;

	__u32 pid = task->pid, previous_pid = old_pid;

	if (!is_tracked(pid) && !is_tracked(previous_pid))
		return 0;
	/* A non-leader thread that execs takes over the leader's pid, whose
	 * entry the leader's final switch-out may already have removed. */
	if (previous_pid != pid) {
		set_tracked(pid);
		clear_tracked(previous_pid);
	}
	e = reserve_event(sizeof(*e), CXT_EV_EXEC);
	if (!e)
		return 0;
	fill_header(&e->h, CXT_EV_EXEC, sizeof(*e), task->pid, task->tgid);
	e->old_pid = old_pid;
	e->mm_id = mm_id_of(task->mm, true);
	e->argc = bprm->argc;
	e->flags = 0;
	e->pad = 0;
	copy_comm(e->comm, task);

	copied = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), bprm->filename);
	if (copied < 0) {
		e->filename[0] = 0;
		copied = 1;
	}
	if (copied == sizeof(e->filename))
		e->flags |= CXT_EXEC_FILENAME_TRUNCATED;
	e->filename_len = copied;

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	total = arg_end > arg_start ? arg_end - arg_start : 0;
	len = total;
	if (len > CXT_ARGS_LEN) {
		len = CXT_ARGS_LEN;
		e->flags |= CXT_EXEC_ARGS_TRUNCATED;
	}
	e->args_total = total;
	if (len && bpf_probe_read_user(e->args, len, (void *)arg_start) < 0) {
		len = 0;
		e->flags |= CXT_EXEC_ARGS_UNREADABLE;
	}
	e->args_len = len;
	/* Stored size: only the used part of args[] counts. */
	e->h.size = CXT_EXEC_FIXED_SIZE + len;
	submit_event(e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_sched_process_exit, struct task_struct *task)
{
	struct cxt_exit *e;

	if (!is_tracked(task->pid))
		return 0;
	e = reserve_event(sizeof(*e), CXT_EV_EXIT);
	if (!e)
		return 0;
	fill_header(&e->h, CXT_EV_EXIT, sizeof(*e), task->pid, task->tgid);
	e->exit_code = task->exit_code;
	/* signal->live reaches 0 for the group's last thread; portable across
	 * kernels whose tracepoint lacks the group_dead argument. */
	e->group_dead = task->signal->live.counter == 0;
	copy_comm(e->comm, task);
	submit_event(e);
	return 0;
}

/* comm changes: at exec, and by prctl(PR_SET_NAME) or a write to
 * /proc/<pid>/task/<tid>/comm (pthread_setname_np). */
SEC("tp_btf/task_rename")
int BPF_PROG(on_task_rename, struct task_struct *task, const char *comm)
{
	struct cxt_rename *e;

	if (!is_tracked(task->pid))
		return 0;
	e = reserve_event(sizeof(*e), CXT_EV_RENAME);
	if (!e)
		return 0;
	fill_header(&e->h, CXT_EV_RENAME, sizeof(*e), task->pid, task->tgid);
	copy_comm(e->old_comm, task);
	bpf_probe_read_kernel_str(e->new_comm, sizeof(e->new_comm), comm);
	submit_event(e);
	return 0;
}
