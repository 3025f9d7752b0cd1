/* SIGBUS from a full disk under the store.
 *
 * Berkeley DB maps its region files (__db.*) and grows them as it needs:
 * when their file system is full, the first touch of a page not yet
 * backed raises SIGBUS rather than failing a write. The process cannot go
 * on, but it can say why it ends. The store is left as by a process that
 * died: committed transactions are in its log, and the next process to
 * open it recovers it, once there is room.
 *
 * The one place where the library ends the process: on a signal that
 * would end it anyway. The words, where they go and the exit status are
 * the command's.
 */
#ifndef PP_SIGBUS_H
#define PP_SIGBUS_H

#include <stddef.h>

#define PP_SIGBUS_MSGS	2	/* messages written on SIGBUS */
#define PP_SIGBUS_MAX	4608	/* bytes of each, with its NUL */

/* From now on, SIGBUS reads what can be read from drain_fd without
 * waiting (-1: none; unread bytes of a socket would make its close reset
 * the connection, and lose what was written), writes msg[i] to fd[i] for
 * each i below n (but where fd[i] is -1), and ends the process with
 * _exit(status). The messages are copied. Returns 0, or PP_EINVAL when n is over PP_SIGBUS_MSGS or a
 * message is over PP_SIGBUS_MAX (nothing is changed then). Call it before
 * any thread is started. */
int pp_sigbus_catch(int drain_fd, const int *fd, const char *const *msg,
    size_t n, int status);

#endif
