#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "sigbus.h"

/* Made beforehand: the handler may only write them. */
static struct {
	int fd;
	char msg[PP_SIGBUS_MAX];
	size_t len;
} bus[PP_SIGBUS_MSGS];
static size_t nbus;
static int bus_drain = -1, bus_status;

static void
on_sigbus(int sig)
{
	char buf[4096];
	size_t i;
	int fl;

	if (bus_drain >= 0 && (fl = fcntl(bus_drain, F_GETFL)) >= 0 &&
	    fcntl(bus_drain, F_SETFL, fl | O_NONBLOCK) >= 0)
		while (read(bus_drain, buf, sizeof(buf)) > 0)
			;
	for (i = 0; i < nbus; i++)
		if (write(bus[i].fd, bus[i].msg, bus[i].len) < 0) {
			/* nowhere to say it */
		}
	_exit(bus_status);
}

int
pp_sigbus_catch(int drain_fd, const int *fd, const char *const *msg,
    size_t n, int status)
{
	struct sigaction sa;
	size_t i;

	if (n > PP_SIGBUS_MSGS)
		return PP_EINVAL;
	for (i = 0; i < n; i++)
		if (strlen(msg[i]) >= PP_SIGBUS_MAX)
			return PP_EINVAL;
	for (i = 0, nbus = 0; i < n; i++) {
		if (fd[i] < 0)
			continue;
		bus[nbus].fd = fd[i];
		bus[nbus].len = strlen(msg[i]);
		memcpy(bus[nbus].msg, msg[i], bus[nbus].len);
		nbus++;
	}
	bus_drain = drain_fd;
	bus_status = status;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) < 0 ? PP_EINVAL : 0;
}
