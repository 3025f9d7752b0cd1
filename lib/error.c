#include <stdarg.h>
#include <stdio.h>

#include "error.h"

const char *
pp_strerror(int code)
{
	switch (code) {
	case PP_OK:		return "success";
	case PP_ENOMEM:		return "out of memory";
	case PP_EIO:		return "input/output error";
	case PP_EFORMAT:	return "not a pprof profile";
	case PP_EINVAL:		return "malformed profile";
	case PP_ETOOBIG:	return "input too large";
	case PP_ENOTFOUND:	return "not found";
	case PP_EMISMATCH:	return "profiles do not match";
	case PP_EREGEX:		return "bad regular expression";
	case PP_EEMPTY:		return "empty input";
	case PP_ERENDER:	return "graph layout failed";
	case PP_EEXIST:		return "already exists";
	case PP_ESTORE:		return "store failure";
	case PP_EAUTH:		return "not authorised";
	case PP_ETIMEDOUT:	return "timed out";
	case PP_EPROTO:		return "protocol error";
	case PP_EBUSY:		return "busy";
	case PP_ENET:		return "cannot connect";
	case PP_EARCHIVE:	return "not a readable bundle";
	case PP_ENOSPC:		return "no space left";
	case PP_EREADONLY:	return "not the master of the replication group";
	}
	return "unknown error";
}

int
pp_err_set(struct pp_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* Messages quote input: keep them one line of printable text. */
	for (p = e->msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return code;
}

const char *
pp_err_msg(const struct pp_err *e, int code)
{
	if (e != NULL && e->code == code && e->msg[0] != '\0')
		return e->msg;
	return pp_strerror(code);
}
