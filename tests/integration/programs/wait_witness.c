/* Threads that take turns on one mutex and sleep between turns, and, as the
 * last thing before they exit, read what the kernel counted for them:
 * /proc/thread-self/schedstat (time on a CPU, time waiting on a runqueue)
 * and /proc/thread-self/status (voluntary and involuntary context
 * switches). They also know what they did themselves: how long they asked
 * to sleep, how long the sleeps took by the clock, how often they held the
 * lock, and how many of their sleeps really blocked (made a voluntary
 * switch): a 0.5 ms sleep whose timer fires before the thread reaches
 * schedule() (its vCPU held up for that long) returns without a switch,
 * and the kernel saw no wait. cxtrace's states and waits for each thread
 * must agree.
 *
 * Nothing should run beside a thread after its read: a task it woke, or a
 * sibling still at work, could preempt it, and the kernel would count a
 * wait the thread never read. So the threads are detached (their exit
 * wakes no joiner), finish their rounds at a barrier and read together,
 * and main naps until every one has published its figures.
 *
 * usage: wait_witness [THREADS] [ROUNDS] [SLEEP_US] [HOLD_US]  (defaults 3 20 2000 1000)
 * Main then prints one line per thread:
 * "wait tid=T cpu_ns=C run_delay_ns=R voluntary=V involuntary=I
 *  asked_sleep_ns=A slept_ns=S locked=L counts_ns=C read_ns=N blocked_sleeps=B"
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct result {
	pid_t tid;
	unsigned long long cpu_ns, run_delay_ns, voluntary, involuntary;
	long long asked_sleep_ns, slept_ns;
	int blocked_sleeps; /* clock_nanosleeps that made a voluntary switch */
	long long counts_ns; /* CLOCK_MONOTONIC just before reading the switch counts */
	long long read_ns;   /* CLOCK_MONOTONIC just after reading schedstat */
	int locked;
	atomic_int published;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t rounds_done;
static int rounds = 20;
static long sleep_us = 2000, hold_us = 1000;

static long long now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long voluntary_switches(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_THREAD, &usage) != 0)
		exit(1);
	return usage.ru_nvcsw;
}

static void compute_for(long us)
{
	volatile unsigned long x = 0;
	long long end = now_ns(CLOCK_THREAD_CPUTIME_ID) + us * 1000LL;

	while (now_ns(CLOCK_THREAD_CPUTIME_ID) < end)
		for (int i = 0; i < 200; ++i)
			x = x * 6364136223846793005UL + 1;
}

/* The time (the trace's clock), the switch counts, the runqueue wait, then
 * the time again: how the thread is switched and waits for a CPU after
 * these reads, until its exit, the kernel counts but the thread cannot
 * report. */
static void read_kernel_counts(struct result *r)
{
	char line[256];
	FILE *f;

	r->counts_ns = now_ns(CLOCK_MONOTONIC);
	f = fopen("/proc/thread-self/status", "r");
	if (!f)
		exit(1);
	while (fgets(line, sizeof line, f)) {
		sscanf(line, "voluntary_ctxt_switches: %llu", &r->voluntary);
		sscanf(line, "nonvoluntary_ctxt_switches: %llu", &r->involuntary);
	}
	fclose(f);
	f = fopen("/proc/thread-self/schedstat", "r");
	if (!f || fscanf(f, "%llu %llu", &r->cpu_ns, &r->run_delay_ns) != 2)
		exit(1);
	r->read_ns = now_ns(CLOCK_MONOTONIC);
	fclose(f);
}

static void *thread_main(void *arg)
{
	struct result *r = arg;
	struct timespec pause = { 0, sleep_us * 1000L };

	r->tid = gettid();
	voluntary_switches(); /* its stack and code touched before the rounds */
	for (int i = 0; i < rounds; ++i) {
		pthread_mutex_lock(&lock);
		++r->locked;
		compute_for(hold_us);
		pthread_mutex_unlock(&lock);
		long long switches = voluntary_switches();
		long long before = now_ns(CLOCK_MONOTONIC);
		clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, NULL);
		r->slept_ns += now_ns(CLOCK_MONOTONIC) - before;
		/* Another block in this span (a page fault waiting for the mmap
		 * lock) is a second switch, not a second sleep. */
		r->blocked_sleeps += voluntary_switches() > switches;
		r->asked_sleep_ns += sleep_us * 1000LL;
	}
	pthread_barrier_wait(&rounds_done);
	read_kernel_counts(r); /* the last thing it does */
	atomic_store(&r->published, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 3;
	pthread_t ids[32];
	pthread_attr_t detached;
	struct result results[32];
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	rounds = argc > 2 ? atoi(argv[2]) : 20;
	sleep_us = argc > 3 ? atol(argv[3]) : 2000;
	hold_us = argc > 4 ? atol(argv[4]) : 1000;
	if (threads < 1 || threads > 32 || rounds < 1 || sleep_us < 0 || hold_us < 0) {
		fprintf(stderr, "usage: wait_witness [THREADS<=32] [ROUNDS] [SLEEP_US] [HOLD_US]\n");
		return 2;
	}
	memset(results, 0, sizeof results);
	pthread_barrier_init(&rounds_done, NULL, (unsigned)threads);
	pthread_attr_init(&detached);
	pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < threads; ++i)
		if (pthread_create(&ids[i], &detached, thread_main, &results[i]) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (int i = 0; i < threads; ++i)
		while (!atomic_load(&results[i].published))
			nanosleep(&pause, NULL);
	nanosleep(&pause, NULL); /* their exits: over before main prints and ends */
	for (int i = 0; i < threads; ++i)
		printf("wait tid=%d cpu_ns=%llu run_delay_ns=%llu voluntary=%llu involuntary=%llu asked_sleep_ns=%lld "
		       "slept_ns=%lld locked=%d counts_ns=%lld read_ns=%lld blocked_sleeps=%d\n",
		       results[i].tid, results[i].cpu_ns, results[i].run_delay_ns, results[i].voluntary,
		       results[i].involuntary, results[i].asked_sleep_ns, results[i].slept_ns, results[i].locked,
		       results[i].counts_ns, results[i].read_ns, results[i].blocked_sleeps);
	return 0;
}
