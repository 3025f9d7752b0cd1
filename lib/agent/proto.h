/* The records pp's preload agent sends to pp-record.
 *
 * pp-record listens on an abstract AF_UNIX SOCK_SEQPACKET socket whose name
 * (without the leading NUL) is in the environment variable PP_AGENT_SOCKET.
 * Every process that loads the agent connects once (and again in a forked
 * child), so one connection is one process image: an exec'd program
 * connects anew with the same pid.
 *
 * A message holds one or more whole records, back to back; a record is a
 * struct pp_rec header and its body, its total length (header included)
 * a multiple of 8. Records are host-endian: both ends run on one host. The
 * agent never blocks: a message that cannot be sent is dropped and counted,
 * and the count travels in the next PP_REC_DROPPED record.
 *
 * The first record of a connection is PP_REC_HELLO. Then, in any order:
 * PP_REC_OBJECT for every loaded object (again after each dlopen), samples,
 * frees of sampled blocks, and drop counts; and at most once,
 * PP_REC_CPU_OFF when CPU sampling stops for good.
 *
 * A sampled heap block is named by a key, unique within the connection,
 * not by its address: heap records wait in per-thread buffers, so a block
 * allocated in one thread and freed in another may have its FREE arrive
 * before its ALLOC, and by then its address may belong to another sampled
 * block. Keep a FREE whose key is unknown and match it when the ALLOC
 * comes; a FREE whose ALLOC was dropped (see PP_REC_DROPPED) stays
 * unmatched.
 *
 * OBJECT records may repeat, and may cover the range of an earlier one (an
 * object unloaded, another loaded at its address): the latest describes
 * the range from then on.
 */
#ifndef PP_AGENT_PROTO_H
#define PP_AGENT_PROTO_H

#include <stdint.h>

#define PP_AGENT_SOCKET_ENV	"PP_AGENT_SOCKET"
#define PP_AGENT_HZ_ENV		"PP_AGENT_HZ"		/* CPU rate; 0: off */
#define PP_AGENT_HEAP_ENV	"PP_AGENT_HEAP_RATE"	/* bytes; 0: off */
#define PP_AGENT_FOLLOW_ENV	"PP_AGENT_FOLLOW"	/* "0": only PP_AGENT_PID */
#define PP_AGENT_PID_ENV	"PP_AGENT_PID"		/* the first program's pid */
#define PP_AGENT_WALK_ENV	"PP_AGENT_WALK"		/* "0": libunwind alone;
						 * "2": the rules alone
						 * (t0203) */

#define PP_PROTO_VERSION	2	/* 2: heap samples as STACK + ALLOC */
#define PP_MAX_FRAMES		128	/* frames kept of a stack */
#define PP_MAX_MSG		65536	/* largest message */

enum pp_rec_type {
	PP_REC_HELLO = 1,
	PP_REC_OBJECT = 2,
	PP_REC_SAMPLE = 3,
	PP_REC_FREE = 4,
	PP_REC_DROPPED = 5,
	PP_REC_CPU_OFF = 6,
	PP_REC_STACK = 7,
	PP_REC_ALLOC = 8,
};

struct pp_rec {
	uint16_t type;		/* enum pp_rec_type */
	uint16_t reserved;
	uint32_t len;		/* of the whole record, a multiple of 8 */
};

/* The process: sent first. */
struct pp_rec_hello {
	struct pp_rec h;
	uint32_t version;	/* PP_PROTO_VERSION */
	uint32_t pid;
	uint32_t ppid;
	uint32_t hz;		/* CPU samples a second per thread; 0: off */
	uint64_t heap_rate;	/* mean bytes between heap samples; 0: off */
	uint64_t start_ns;	/* CLOCK_REALTIME when the agent started */
	uint32_t cpu_off;	/* CPU sampling refused: why (enum below) */
	uint32_t exe_len;	/* bytes of exe[] used, without NUL */
	char exe[];		/* /proc/self/exe, then NUL, padded to 8 */
};

enum {
	PP_CPU_ON = 0,
	PP_CPU_OFF_ASKED = 1,		/* hz == 0 */
	PP_CPU_OFF_SIGPROF = 2,		/* the program handles SIGPROF */
	PP_CPU_OFF_TIMER = 3,		/* timer_create failed */
};

/* A loaded object's mapped segment (one record per PT_LOAD). */
struct pp_rec_object {
	struct pp_rec h;
	uint64_t start;		/* first address */
	uint64_t limit;		/* one past the last */
	uint64_t offset;	/* file offset mapped at start */
	uint32_t build_id_len;	/* bytes of build_id */
	uint32_t path_len;	/* bytes of path, without NUL */
	uint8_t build_id[40];
	char path[];		/* NUL-terminated, padded to 8 */
};

enum pp_sample_kind {
	PP_SAMPLE_CPU = 1,	/* value: nanoseconds of CPU (period x ticks) */
	PP_SAMPLE_ALLOC = 2,	/* value: bytes allocated; addr: its key */
};

/* A stack: pc[0] is the leaf, the interrupted or allocating instruction
 * (for ALLOC an address inside the call, the return address - 1); the
 * others are return addresses as found on the stack. */
struct pp_rec_sample {
	struct pp_rec h;
	uint8_t kind;		/* enum pp_sample_kind */
	uint8_t truncated;	/* the stack had more than PP_MAX_FRAMES */
	uint16_t nframes;
	uint32_t tid;
	uint64_t value;
	uint64_t count;		/* CPU: timer ticks (1 + overruns); else 1 */
	uint64_t addr;		/* ALLOC: the block's key, for its FREE */
	uint64_t pc[];
};

/* Heap samples name their stack by a number a thread defines before it
 * uses it (a thread's records travel in order, in its own messages): a
 * STACK gives thread tid's stack number id (below PP_STACK_IDS) its frames,
 * replacing what that number meant before; an ALLOC is an allocation of
 * value bytes, with key addr as in pp_rec_sample, on stack id of thread
 * tid. An ALLOC whose stack was never defined is counted as dropped. Key
 * 0 (keys start at 1) is a block freed before its ALLOC was sent: it
 * counts as allocated, not as live, and has no FREE. */
#define PP_STACK_IDS		256
struct pp_rec_stack {
	struct pp_rec h;
	uint32_t id;
	uint32_t tid;
	uint8_t kind;		/* enum pp_sample_kind */
	uint8_t truncated;
	uint16_t nframes;
	uint32_t reserved;
	uint64_t pc[];
};

struct pp_rec_alloc {
	struct pp_rec h;
	uint32_t id;
	uint32_t tid;
	uint64_t value;
	uint64_t addr;
};

/* Sampled blocks freed (realloc'd blocks too): their keys (addr[] holds
 * the keys of their ALLOC samples, not addresses). */
struct pp_rec_free {
	struct pp_rec h;
	uint32_t n;
	uint32_t reserved;
	uint64_t addr[];
};

/* Records the agent could not send since its last PP_REC_DROPPED. */
struct pp_rec_dropped {
	struct pp_rec h;
	uint64_t samples;
	uint64_t frees;
};

/* CPU sampling has stopped for good, for the reason in why (PP_CPU_OFF_*:
 * PP_CPU_OFF_SIGPROF when the program installed a SIGPROF disposition of
 * its own after the agent started). No CPU samples follow; those before
 * it stand. */
struct pp_rec_cpu_off {
	struct pp_rec h;
	uint32_t why;
	uint32_t reserved;
};

#endif
