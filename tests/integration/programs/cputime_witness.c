/* Threads and processes that burn some CPU and, as the very last thing
 * before they exit, print their own CPU time (CLOCK_THREAD_CPUTIME_ID: the
 * kernel's se.sum_exec_runtime for the task). cxtrace's cpu_time_ns for each
 * task must agree with what it printed. C, so that exiting after the read
 * costs next to nothing (an interpreter's teardown costs milliseconds).
 *
 * Exiting a process still costs CPU after its read (tearing down its
 * address space: over a millisecond in a VM whose page tables the host
 * manages). So main also prints, for each child process, the exact total
 * the kernel kept: the first field of the zombie's /proc/PID/schedstat
 * (se.sum_exec_runtime), read before the child is reaped.
 *
 * usage: cputime_witness [THREADS] [PROCESSES] [MS]   (defaults 2 2 150)
 * Each task prints "cputime pid=P tid=T cpu_ns=N"; main then prints
 * "final pid=P cpu_ns=N" for each child process.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void burn(long ms)
{
	volatile unsigned long x = 0;
	long long end = cpu_ns() + ms * 1000000LL;

	while (cpu_ns() < end)
		for (int i = 0; i < 1000; ++i)
			x = x * 6364136223846793005UL + 1;
}

/* One write(2) per line: whole lines even with several writers on a pipe. */
static void report(void)
{
	char line[96];
	int len = snprintf(line, sizeof line, "cputime pid=%d tid=%d cpu_ns=%lld\n", getpid(), gettid(), cpu_ns());

	if (write(STDOUT_FILENO, line, (size_t)len) != len)
		_exit(1);
}

static long work_ms = 150;

static void *thread_main(void *arg)
{
	(void)arg;
	burn(work_ms);
	report();
	syscall(SYS_exit, 0); /* the thread alone, at once: no library teardown after the read */
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	int processes = argc > 2 ? atoi(argv[2]) : 2;
	pthread_t ids[64];
	pid_t children[64];

	work_ms = argc > 3 ? atol(argv[3]) : 150;
	if (threads < 0 || threads > 64 || processes < 0 || processes > 64 || work_ms < 0) {
		fprintf(stderr, "usage: cputime_witness [THREADS<=64] [PROCESSES<=64] [MS]\n");
		return 2;
	}
	for (int i = 0; i < threads; ++i)
		if (pthread_create(&ids[i], NULL, thread_main, NULL) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (int i = 0; i < processes; ++i) {
		children[i] = fork();
		if (children[i] < 0) {
			perror("fork");
			return 1;
		}
		if (children[i] == 0) {
			burn(work_ms);
			report();
			_exit(0);
		}
	}
	for (int i = 0; i < processes; ++i) {
		siginfo_t info;
		char path[64];
		unsigned long long runtime = 0;
		FILE *schedstat;

		/* Exited but not reaped: its /proc entry still holds the final total. */
		if (waitid(P_PID, (id_t)children[i], &info, WEXITED | WNOWAIT) != 0) {
			perror("waitid");
			return 1;
		}
		snprintf(path, sizeof path, "/proc/%d/schedstat", children[i]);
		schedstat = fopen(path, "r");
		if (!schedstat || fscanf(schedstat, "%llu", &runtime) != 1) {
			perror(path);
			return 1;
		}
		fclose(schedstat);
		printf("final pid=%d cpu_ns=%llu\n", children[i], runtime);
		fflush(stdout);
		waitpid(children[i], NULL, 0);
	}
	/* Threads that ended with a raw exit cannot be joined: wait until the
	 * kernel has cleared their tids (CLONE_CHILD_CLEARTID), as join would. */
	for (int i = 0; i < threads; ++i)
		while (pthread_tryjoin_np(ids[i], NULL) != 0)
			usleep(1000);
	burn(work_ms);
	report();
	_exit(0);
}
