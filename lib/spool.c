#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "util.h"

int
pp_spool_default(char *buf, size_t size)
{
	const char *env, *home;
	struct passwd *pw;

	if ((env = getenv("PP_SPOOL")) != NULL && *env != '\0') {
		snprintf(buf, size, "%s", env);
		return 0;
	}
	if (geteuid() == 0) {
		snprintf(buf, size, "/var/spool/pp");
		return 0;
	}
	if ((env = getenv("XDG_STATE_HOME")) != NULL && *env == '/') {
		snprintf(buf, size, "%s/pp/spool", env);
		return 0;
	}
	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		if ((pw = getpwuid(geteuid())) == NULL)
			return PP_ENOTFOUND;
		home = pw->pw_dir;
	}
	snprintf(buf, size, "%s/.local/state/pp/spool", home);
	return 0;
}

/* mkdir -p with mode 0700 for what it creates. */
static int
mkdirs(const char *path, struct pp_err *e)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return pp_err_set(e, PP_EIO, "path too long: '%s'", path);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return pp_err_set(e, PP_EIO, "cannot create '%s': %s",
			    buf, strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int
pp_spool_init(const char *dir, struct pp_err *e)
{
	char path[PATH_MAX];
	int rc;

	if ((rc = mkdirs(dir, e)) < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/tmp", dir);
	if ((rc = mkdirs(path, e)) < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/new", dir);
	return mkdirs(path, e);
}

static int
write_fd_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes tmp, fsyncs it and renames it to final; removes tmp on failure. */
static int
write_rename(const char *tmp, const char *final, const void *data,
    size_t len, struct pp_err *e)
{
	int fd, err;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return pp_err_set(e, PP_EIO, "cannot create '%s': %s", tmp,
		    strerror(errno));
	if (write_fd_all(fd, data, len) < 0 || fsync(fd) < 0) {
		err = errno;
		close(fd);
		unlink(tmp);
		return pp_err_set(e, PP_EIO, "cannot write '%s': %s", tmp,
		    strerror(err));
	}
	if (close(fd) < 0 || rename(tmp, final) < 0) {
		err = errno;
		unlink(tmp);
		return pp_err_set(e, PP_EIO, "cannot write '%s': %s", final,
		    strerror(err));
	}
	return 0;
}

int
pp_spool_put(const char *dir, const char *name, const void *data, size_t len,
    struct pp_err *e)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name);
	if (snprintf(final, sizeof(final), "%s/new/%s", dir, name) >=
	    (int)sizeof(final))
		return pp_err_set(e, PP_EIO, "path too long: '%s'", final);
	if ((rc = write_rename(tmp, final, data, len, e)) < 0)
		return rc;
	/* The rename itself must survive a crash too. */
	snprintf(tmp, sizeof(tmp), "%s/new", dir);
	if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int
pp_write_file_atomic(const char *path, const void *data, size_t len,
    struct pp_err *e)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return pp_err_set(e, PP_EIO, "path too long: '%s'", path);
	return write_rename(tmp, path, data, len, e);
}

struct entry {
	char *name;
	uint64_t size;
};

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
	    ((const struct entry *)b)->name);
}

int
pp_spool_trim(const char *dir, uint64_t cap, size_t *dropped,
    struct pp_err *e)
{
	char path[PATH_MAX];
	struct entry *ents = NULL;
	size_t n = 0, capn = 0, i, gone = 0;
	uint64_t total = 0;
	struct dirent *d;
	struct stat st;
	DIR *dp;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/new", dir);
	if ((dp = opendir(path)) == NULL)
		return pp_err_set(e, PP_EIO, "cannot open '%s': %s", path,
		    strerror(errno));
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(dp), d->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (pp_grow(&ents, &capn, n + 1, sizeof(*ents)) < 0 ||
		    (ents[n].name = strdup(d->d_name)) == NULL) {
			rc = PP_ENOMEM;
			goto out;
		}
		ents[n++].size = (uint64_t)st.st_size;
		total += (uint64_t)st.st_size;
	}
	if (n > 1)
		qsort(ents, n, sizeof(*ents), cmp_entry);
	for (i = 0; i < n && total > cap; i++) {
		if (unlinkat(dirfd(dp), ents[i].name, 0) == 0) {
			total -= ents[i].size;
			gone++;
		}
	}
out:
	if (dropped != NULL)
		*dropped = gone;
	for (i = 0; i < n; i++)
		free(ents[i].name);
	free(ents);
	closedir(dp);
	return rc;
}
