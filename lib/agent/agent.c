/* pp's preload agent: start-up, the connection to pp-record, fork,
 * threads, dlopen. See agent.h for the rules every file here follows and
 * proto.h for what goes on the wire. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

/* Where the connection goes: high, so that a program that opens many
 * files, or dup2()s onto low numbers, is unlikely to hit it. */
#define PP_FD_MIN	900

/* How long start-up records (HELLO, OBJECT) may wait for room, and how
 * long connect may wait for a full listen queue. Samples never wait. */
#define PP_WAIT_MS	100
#define PP_CONNECT_MS	500

struct pp_agent pp_agent = {
	.state = PP_STATE_OFF,
	.fd = -1,
	.keys = 1,
};
PP_TLS struct pp_thread pp_thr;

static pthread_key_t thread_key;
static int have_key;
static int fork_locked;
static int fork_risky;		/* the child may not call dl_iterate_phdr */

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *,
    void *(*)(void *), void *);
static pthread_create_fn real_pthread_create;
static int (*real_dlclose)(void *);
/* Read by the dlopen entry stub below. */
void *(*pp_real_dlopen)(const char *, int);

void *
pp_next_sym(void *_Atomic *slot, const char *name)
{
	struct pp_thread *t = &pp_thr;
	int saved, g;
	void *p;

	if ((p = atomic_load(slot)) != NULL)
		return p;
	saved = errno;
	g = t->guard;
	t->guard = 1;
	p = dlsym(RTLD_NEXT, name);
	t->guard = g;
	errno = saved;
	atomic_store(slot, p);
	return p;
}

typedef int (*execve_fn)(const char *, char *const [], char *const []);
typedef int (*execv_fn)(const char *, char *const []);
typedef int (*fexecve_fn)(int, char *const [], char *const []);
typedef void (*exit_fn)(int);

static void *_Atomic real_execve, *_Atomic real_execv, *_Atomic real_execvp,
    *_Atomic real_execvpe, *_Atomic real_fexecve, *_Atomic real__exit,
    *_Atomic real__Exit;

struct pp_start {
	void *(*fn)(void *);
	void *arg;
};

uint64_t
pp_now_coarse(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

pid_t
pp_tid(struct pp_thread *t)
{
	if (t->tid == 0)
		t->tid = gettid();
	return t->tid;
}

void
pp_go_inert(void)
{
	atomic_store(&pp_agent.state, PP_STATE_OFF);
	/* The descriptor is not closed: by now it may be the program's. */
	atomic_store(&pp_agent.fd, -1);
}

int
pp_send(const void *buf, size_t len, int wait_ms)
{
	struct pollfd pfd;
	struct stat st;
	ssize_t n;
	int fd;

	fd = atomic_load(&pp_agent.fd);
	if (fd < 0)
		return -1;
	/* A program may close every descriptor (daemons do, and so do
	 * programs before exec) and get our number back for a file or a
	 * socket of its own: write only to the socket we connected. */
	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode) ||
	    st.st_ino != pp_agent.ino || st.st_dev != pp_agent.dev) {
		pp_go_inert();
		return -1;
	}
	for (;;) {
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -1;
		switch (errno) {
		case EINTR:
			continue;
		case EAGAIN:
		case ENOBUFS:
			if (wait_ms <= 0)
				return -1;
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, wait_ms) <= 0)
				return -1;
			wait_ms = 0;
			continue;
		case EMSGSIZE:
			return -1;
		default:
			/* EPIPE, ECONNRESET, EBADF...: pp-record is gone. */
			pp_go_inert();
			return -1;
		}
	}
}

void
pp_report_drops(void)
{
	struct pp_rec_dropped r;
	uint64_t s, f;

	if (atomic_load_explicit(&pp_agent.drop_samples,
	    memory_order_relaxed) == 0 &&
	    atomic_load_explicit(&pp_agent.drop_frees,
	    memory_order_relaxed) == 0)
		return;
	s = atomic_exchange(&pp_agent.drop_samples, 0);
	f = atomic_exchange(&pp_agent.drop_frees, 0);
	memset(&r, 0, sizeof(r));
	r.h.type = PP_REC_DROPPED;
	r.h.len = sizeof(r);
	r.samples = s;
	r.frees = f;
	if (pp_send(&r, sizeof(r), 0) == -1) {
		atomic_fetch_add(&pp_agent.drop_samples, s);
		atomic_fetch_add(&pp_agent.drop_frees, f);
	}
}

void
pp_thread_register(struct pp_thread *t)
{
	if (t->registered || !have_key)
		return;
	if (pthread_setspecific(thread_key, (void *)1) == 0)
		t->registered = 1;
}

/* The pthread key's destructor: the thread is exiting. It runs again in a
 * later round if a later destructor makes the thread record anything (and
 * so register again). */
static void
thread_exit(void *arg)
{
	struct pp_thread *t = &pp_thr;
	int saved = errno, g = t->guard;

	(void)arg;
	t->guard = 1;
	t->registered = 0;
	/* A thread that ended by pthread_exit, not by returning: the ticks
	 * due since its last one go on that tick's stack, or, before its
	 * first, on its start routine alone (no walk here). */
	pp_cpu_thread_end(t, t->start_fn, 0);
	pp_heap_thread_exit(t);
	pp_unwind_thread_exit(t);
	t->guard = g;
	errno = saved;
}

static uint64_t
env_u64(const char *name, uint64_t def, uint64_t max)
{
	const char *s;
	char *end;
	unsigned long long v;

	if ((s = getenv(name)) == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return def;
	return v;
}

static int
sock_connect(void)
{
	struct sockaddr_un sun;
	struct timeval tv = { 0, PP_CONNECT_MS * 1000 };
	struct stat st;
	size_t n = strlen(pp_agent.sock);
	socklen_t len;
	int fd, hi, sz = INT_MAX, fl;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, pp_agent.sock, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* Blocking connect, bounded: a busy recorder whose listen queue is
	 * full (many children starting at once) gets a moment to accept,
	 * rather than the child going unprofiled. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, len) == -1)
		goto fail;
	/* As much room as the system allows (net.core.wmem_max), so that
	 * bursts wait in the socket rather than being dropped. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		goto fail;
	if ((hi = fcntl(fd, F_DUPFD_CLOEXEC, PP_FD_MIN)) != -1) {
		close(fd);
		fd = hi;
	}
	if (fstat(fd, &st) == -1)
		goto fail;
	pp_agent.dev = st.st_dev;
	pp_agent.ino = st.st_ino;
	return fd;
fail:
	close(fd);
	return -1;
}

static int
send_hello(pid_t ppid)
{
	uint64_t buf[(sizeof(struct pp_rec_hello) + sizeof(pp_agent.exe) +
	    8) / 8];
	struct pp_rec_hello *h = (struct pp_rec_hello *)buf;
	size_t len;

	len = PP_ALIGN8(offsetof(struct pp_rec_hello, exe) +
	    pp_agent.exe_len + 1);
	memset(buf, 0, len);
	h->h.type = PP_REC_HELLO;
	h->h.len = (uint32_t)len;
	h->version = PP_PROTO_VERSION;
	h->pid = (uint32_t)pp_agent.pid;
	h->ppid = (uint32_t)ppid;
	h->hz = pp_agent.cpu_off == PP_CPU_ON ? pp_agent.hz : 0;
	h->heap_rate = pp_agent.heap_rate;
	h->start_ns = pp_agent.start_ns;
	h->cpu_off = pp_agent.cpu_off;
	h->exe_len = pp_agent.exe_len;
	memcpy(h->exe, pp_agent.exe, pp_agent.exe_len);
	return pp_send(h, len, PP_WAIT_MS);
}

static uint64_t
now_realtime(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* On the connection fd: says HELLO, describes the loaded objects and
 * starts the calling thread's timer; for the first process and for a
 * forked child. */
static int
start_process(struct pp_thread *t, pid_t ppid, int fd, int child)
{
	int timer = 0;

	atomic_store(&pp_agent.fd, fd);
	atomic_store(&pp_agent.state, PP_STATE_ON);
	pp_tid(t);
	if (pp_agent.cpu_off == PP_CPU_ON && pp_cpu_install() == -1)
		pp_agent.cpu_off = PP_CPU_OFF_TIMER;
	/* The timer exists (disarmed) before HELLO, so that HELLO can say
	 * whether CPU sampling runs, and fires only after it. */
	if (pp_agent.cpu_off == PP_CPU_ON) {
		if (pp_cpu_thread_start(t) == 0)
			timer = 1;
		else
			pp_agent.cpu_off = PP_CPU_OFF_TIMER;
	}
	if (send_hello(ppid) == -1)
		goto fail;
	pp_thread_register(t);
	if (child)
		pp_objects_send_all();
	else
		pp_objects_scan(1, 0);
	if (timer)
		pp_cpu_arm(t);
	return 0;
fail:
	if (timer)
		pp_cpu_thread_stop(t);
	pp_go_inert();
	close(fd);
	return -1;
}

static void
fork_prepare(void)
{
	struct pp_thread *t = &pp_thr;
	int saved = errno, g = t->guard;

	fork_locked = 0;
	fork_risky = 0;
	if (!pp_on())
		return;
	t->guard = 1;
	pp_heap_flush(t);
	fork_risky = pp_unwind_fork_prepare(t) == -1;
	/* Not locked, the child scans afresh: a scan holding the lock is
	 * past its dl_iterate_phdr (pp_phdr_begin). */
	fork_locked = pp_objects_lock(1) == 0;
	t->guard = g;
	errno = saved;
}

static void
fork_parent(void)
{
	if (fork_locked)
		pp_objects_unlock();
	fork_locked = 0;
	pp_unwind_fork_done();
}

/* The child is a new process with one thread: new connection, new
 * profiles; nothing of the parent's samples, timers or sampled blocks
 * carries over. */
static void
fork_child(void)
{
	struct pp_thread *t = &pp_thr;
	int saved = errno, g = t->guard, fd;
	pid_t ppid = pp_agent.pid;

	t->guard = 1;
	pp_objects_child(fork_locked);
	fork_locked = 0;
	pp_unwind_child(t, fork_risky);
	fork_risky = 0;
	pp_cpu_child();
	t->tid = 0;
	t->has_timer = 0;
	if ((fd = atomic_exchange(&pp_agent.fd, -1)) >= 0)
		close(fd);
	atomic_store(&pp_agent.drop_samples, 0);
	atomic_store(&pp_agent.drop_frees, 0);
	pp_heap_child(t);
	if (!pp_on())
		goto out;
	atomic_store(&pp_agent.state, PP_STATE_OFF);
	if (!pp_agent.follow)
		goto out;
	pp_agent.pid = getpid();
	pp_agent.start_ns = now_realtime();
	if ((fd = sock_connect()) != -1)
		(void)start_process(t, ppid, fd, 1);
out:
	t->guard = g;
	errno = saved;
}

static int
setup(struct pp_thread *t)
{
	const char *s;
	ssize_t n;
	int fd = -1;

	if ((s = getenv(PP_AGENT_SOCKET_ENV)) == NULL || *s == '\0' ||
	    strlen(s) >= sizeof(pp_agent.sock))
		return -1;
	memcpy(pp_agent.sock, s, strlen(s) + 1);
	pp_agent.pid = getpid();
	pp_agent.start_ns = now_realtime();
	s = getenv(PP_AGENT_FOLLOW_ENV);
	pp_agent.follow = s == NULL || strcmp(s, "0") != 0;
	/* Without following, only the first program is profiled; an exec'd
	 * program inherits the environment and checks again. */
	if (!pp_agent.follow &&
	    env_u64(PP_AGENT_PID_ENV, 0, INT_MAX) != (uint64_t)pp_agent.pid)
		return -1;
	pp_agent.hz = (uint32_t)env_u64(PP_AGENT_HZ_ENV, 100, 10000);
	pp_agent.fast_walk = (int)env_u64(PP_AGENT_WALK_ENV, 1, 2);
	pp_agent.heap_rate = env_u64(PP_AGENT_HEAP_ENV, 512 * 1024,
	    (uint64_t)1 << 40);
	if (pp_agent.hz != 0)
		pp_agent.period_ns = 1000000000 / pp_agent.hz;
	if ((n = readlink("/proc/self/exe", pp_agent.exe,
	    sizeof(pp_agent.exe) - 1)) < 0)
		n = 0;
	pp_agent.exe[n] = '\0';
	pp_agent.exe_len = (uint32_t)n;

	if (pp_real_dlopen == NULL || real_dlclose == NULL ||
	    real_pthread_create == NULL)
		goto fail;
	/* Connect first: without pp-record there is nothing to load. */
	if ((fd = sock_connect()) == -1 || pp_unwind_init() == -1)
		goto fail;
	if (pthread_key_create(&thread_key, thread_exit) != 0)
		goto fail;
	have_key = 1;
	if (pp_agent.heap_rate != 0 && pp_heap_init() == -1)
		pp_agent.heap_rate = 0;
	pp_agent.cpu_off = pp_agent.hz == 0 ? PP_CPU_OFF_ASKED :
	    pp_cpu_init();
	if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0)
		goto fail;
	return start_process(t, getppid(), fd, 0);
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

/* Looks up now what the wrappers call, inert or not: later a lookup could
 * come in a vfork child or a signal handler. */
static void
resolve_next(void)
{
	(void)pp_next_sym(&real_execve, "execve");
	(void)pp_next_sym(&real_execv, "execv");
	(void)pp_next_sym(&real_execvp, "execvp");
	(void)pp_next_sym(&real_execvpe, "execvpe");
	(void)pp_next_sym(&real_fexecve, "fexecve");
	(void)pp_next_sym(&real__exit, "_exit");
	(void)pp_next_sym(&real__Exit, "_Exit");
	pp_cpu_resolve();
	if (pp_real_dlopen == NULL)
		pp_real_dlopen = (void *(*)(const char *, int))dlsym(
		    RTLD_NEXT, "dlopen");
	if (real_dlclose == NULL)
		real_dlclose = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
	if (real_pthread_create == NULL)
		real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT,
		    "pthread_create");
}

__attribute__((constructor)) static void
agent_init(void)
{
	struct pp_thread *t = &pp_thr;
	int saved = errno;

	t->guard = 1;
	resolve_next();
	if (setup(t) == -1)
		pp_go_inert();
	else
		pp_unwind_stack(t);
	pp_agent.inited = 1;
	t->guard = 0;
	errno = saved;
}

/* At exit: this thread's records, and the drop count. Other threads'
 * unsent records are lost unless they exited first. */
__attribute__((destructor)) static void
agent_fini(void)
{
	struct pp_thread *t = &pp_thr;
	int saved = errno, g = t->guard;

	if (!pp_on())
		return;
	t->guard = 1;
	atomic_store(&pp_agent.final, 1);
	pp_cpu_check_handler();
	pp_cpu_thread_end(t, 0, 1);
	pp_heap_flush(t);
	pp_report_drops();
	t->guard = g;
	errno = saved;
}

static void *
thread_start(void *arg)
{
	struct pp_thread *t = &pp_thr;
	struct pp_start s = *(struct pp_start *)arg;
	int saved = errno;
	void *ret;

	t->guard = 1;
	__libc_free(arg);
	if (pp_on()) {
		pp_tid(t);
		pp_thread_register(t);
		pp_unwind_warm(t);
		pp_unwind_stack(t);
		pp_cpu_check_handler();
		/* Only a registered thread: its exit must unlist its timer. */
		if (pp_agent.cpu_off == PP_CPU_ON && t->registered &&
		    pp_cpu_thread_start(t) == 0)
			pp_cpu_arm(t);
	}
	t->start_fn = (uintptr_t)s.fn;
	t->guard = 0;
	errno = saved;
	ret = s.fn(s.arg);
	pp_cpu_thread_end(t, (uintptr_t)s.fn, 1);
	return ret;
}

static pthread_create_fn
get_pthread_create(void)
{
	struct pp_thread *t = &pp_thr;
	int g;

	/* Called before our constructor ran (a library's constructor that
	 * starts a thread): look it up now. dlsym may allocate. */
	if (real_pthread_create == NULL) {
		g = t->guard;
		t->guard = 1;
		real_pthread_create = (pthread_create_fn)dlsym(RTLD_NEXT,
		    "pthread_create");
		t->guard = g;
	}
	return real_pthread_create;
}

PP_EXPORT int
pthread_create(pthread_t *th, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg)
{
	struct pp_thread *t = &pp_thr;
	pthread_create_fn real = get_pthread_create();
	struct pp_start *s;
	int rc, saved, g;

	if (real == NULL)
		return EAGAIN;
	if (!pp_on() || t->guard)
		return real(th, attr, fn, arg);
	saved = errno;
	g = t->guard;
	t->guard = 1;
	pp_objects_poll(1);
	s = __libc_malloc(sizeof(*s));
	t->guard = g;
	errno = saved;
	if (s == NULL)
		return real(th, attr, fn, arg);
	s->fn = fn;
	s->arg = arg;
	if ((rc = real(th, attr, thread_start, s)) != 0)
		__libc_free(s);
	return rc;
}

/*
 * dlopen. glibc finds the caller's object from dlopen's return address:
 * its DT_RUNPATH/DT_RPATH for a bare file name and the meaning of $ORIGIN
 * come from there. A wrapper in C would make the agent the caller, and a
 * program whose RUNPATH holds its plugins would no longer find them. So
 * dlopen is a stub: when the name needs the caller (no '/', or a '$'), it
 * jumps to glibc's dlopen with the program's return address untouched,
 * and the new object is found later (pp_objects_poll); otherwise it jumps
 * to pp_dlopen_wrapped, which marks the thread as inside dlopen (no
 * unwinding in its SIGPROF handler; a fork waits for it: unwind.c) and
 * sends the new objects at once.
 */
int pp_dlopen_direct(const char *file, int mode) PP_HIDDEN;
void *pp_dlopen_wrapped(const char *file, int mode) PP_HIDDEN;

__asm__(
	"	.text\n"
	"	.globl	dlopen\n"
	"	.type	dlopen, @function\n"
	"dlopen:\n"
	"	.cfi_startproc\n"
	"	pushq	%rdi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	pushq	%rsi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	subq	$8, %rsp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	call	pp_dlopen_direct\n"
	"	addq	$8, %rsp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq	%rsi\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq	%rdi\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	testl	%eax, %eax\n"
	"	jz	1f\n"
	"	jmp	*pp_real_dlopen(%rip)\n"
	"1:	jmp	pp_dlopen_wrapped\n"
	"	.cfi_endproc\n"
	"	.size	dlopen, .-dlopen\n");

int
pp_dlopen_direct(const char *file, int mode)
{
	struct pp_thread *t = &pp_thr;
	int saved = errno, g;

	(void)mode;
	if (pp_real_dlopen == NULL) {
		g = t->guard;
		t->guard = 1;
		pp_real_dlopen = (void *(*)(const char *, int))dlsym(
		    RTLD_NEXT, "dlopen");
		t->guard = g;
		errno = saved;
	}
	if (pp_real_dlopen == NULL)
		return 0;	/* pp_dlopen_wrapped fails it */
	if (!pp_on() || t->guard)
		return 1;
	if (file != NULL && (strchr(file, '/') == NULL ||
	    strchr(file, '$') != NULL)) {
		/* Not counted (see unwind.c), but not begun during a fork. */
		(void)pp_dl_wait(t);
		pp_objects_poll_soon();
		return 1;
	}
	return 0;
}

void *
pp_dlopen_wrapped(const char *file, int mode)
{
	struct pp_thread *t = &pp_thr;
	void *h;
	int saved, g;

	if (pp_real_dlopen == NULL)
		return NULL;
	pp_dl_enter(t);
	h = pp_real_dlopen(file, mode);
	pp_dl_leave(t);
	if (h != NULL && pp_on()) {
		saved = errno;
		g = t->guard;
		t->guard = 1;
		pp_objects_scan(0, 0);
		t->guard = g;
		errno = saved;
	}
	return h;
}

PP_EXPORT int
dlclose(void *h)
{
	struct pp_thread *t = &pp_thr;
	int rc, saved, g;

	if (real_dlclose == NULL) {
		g = t->guard;
		t->guard = 1;
		real_dlclose = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
		t->guard = g;
		if (real_dlclose == NULL)
			return -1;
	}
	pp_dl_enter(t);
	rc = real_dlclose(h);
	pp_dl_leave(t);
	/* Unwind rules of what was unloaded may not serve what comes at
	 * its addresses next. */
	if (rc == 0)
		pp_walk_forget();
	if (rc == 0 && pp_on() && !t->guard) {
		/* Forget what was unloaded, so that an object loaded later at
		 * the same address is described again. */
		saved = errno;
		g = t->guard;
		t->guard = 1;
		pp_objects_scan(0, 0);
		t->guard = g;
		errno = saved;
	}
	return rc;
}

/*
 * Leaving the process image: exec and _exit run no destructors, and a
 * forked child typically works a while and then does one or the other.
 * Send the calling thread's records first (other threads' are lost with
 * them, as at any exit). In a vfork child this is the parent's thread,
 * suspended meanwhile: its records go out on its own connection.
 */
static void
leaving(void)
{
	struct pp_thread *t = &pp_thr;
	int saved = errno, g = t->guard;

	if (!pp_on() || g)
		return;
	t->guard = 1;
	pp_heap_flush(t);
	pp_report_drops();
	t->guard = g;
	errno = saved;
}

PP_EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	execve_fn f = (execve_fn)pp_next_sym(&real_execve, "execve");

	leaving();
	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return f(path, argv, envp);
}

PP_EXPORT int
execv(const char *path, char *const argv[])
{
	execv_fn f = (execv_fn)pp_next_sym(&real_execv, "execv");

	leaving();
	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return f(path, argv);
}

PP_EXPORT int
execvp(const char *file, char *const argv[])
{
	execv_fn f = (execv_fn)pp_next_sym(&real_execvp, "execvp");

	leaving();
	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return f(file, argv);
}

PP_EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	execve_fn f = (execve_fn)pp_next_sym(&real_execvpe, "execvpe");

	leaving();
	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return f(file, argv, envp);
}

PP_EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	fexecve_fn f = (fexecve_fn)pp_next_sym(&real_fexecve, "fexecve");

	leaving();
	if (f == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return f(fd, argv, envp);
}

/* The execl family gathers its arguments as glibc does, then goes through
 * the wrappers above. */
static size_t
count_args(const char *arg, va_list ap)
{
	size_t n = 1;

	if (arg == NULL)
		return 0;
	while (va_arg(ap, const char *) != NULL)
		n++;
	return n;
}

/* argv[0..n] from arg and the n - 1 arguments after it, and the NULL. */
static void
fill_args(char **argv, const char *arg, va_list *ap, size_t n)
{
	size_t i;

	argv[0] = (char *)arg;
	for (i = 1; i <= n; i++)
		argv[i] = va_arg(*ap, char *);
}

PP_EXPORT int
execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(arg, ap);
	va_end(ap);
	if (n > INT_MAX / sizeof(char *)) {
		errno = E2BIG;
		return -1;
	}
	{
		char *argv[n + 1];

		va_start(ap, arg);
		fill_args(argv, arg, &ap, n);
		va_end(ap);
		return execv(path, argv);
	}
}

PP_EXPORT int
execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(arg, ap);
	va_end(ap);
	if (n > INT_MAX / sizeof(char *)) {
		errno = E2BIG;
		return -1;
	}
	{
		char *argv[n + 1];

		va_start(ap, arg);
		fill_args(argv, arg, &ap, n);
		va_end(ap);
		return execvp(file, argv);
	}
}

PP_EXPORT int
execle(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(arg, ap);
	va_end(ap);
	if (n > INT_MAX / sizeof(char *)) {
		errno = E2BIG;
		return -1;
	}
	{
		char *argv[n + 1], **envp;

		va_start(ap, arg);
		fill_args(argv, arg, &ap, n);
		envp = va_arg(ap, char **);
		va_end(ap);
		return execve(path, argv, envp);
	}
}

PP_EXPORT void
_exit(int status)
{
	exit_fn f = (exit_fn)pp_next_sym(&real__exit, "_exit");

	leaving();
	if (f != NULL)
		f(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

PP_EXPORT void
_Exit(int status)
{
	exit_fn f = (exit_fn)pp_next_sym(&real__Exit, "_Exit");

	leaving();
	if (f != NULL)
		f(status);
	for (;;)
		syscall(SYS_exit_group, status);
}
