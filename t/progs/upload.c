/* upload: a quick upload client, for the load test (t/t0391-recv-load.sh)
 * and the upload benchmark (t/perf/p0003-service.sh).
 *
 *	upload [-s] URL TOKEN-FILE LIST
 *
 * Reads every file named in LIST (one path a line) into memory first, then
 * POSTs each once to URL with libcurl, a new connection each (as many
 * pushing hosts would), with "Authorization: Bearer TOKEN" (the first line
 * of TOKEN-FILE) and an empty "Expect:" header.  Whatever the answer, it
 * prints one line an upload on stdout,
 *
 *	STATUS PATH BODY
 *
 * STATUS the HTTP status (0 when there was no answer: BODY is then
 * libcurl's error), BODY the first 1000 bytes of the answer's body on one
 * line.  Exits 0 when every upload got an answer, 1 otherwise.
 *
 * With -s (the benchmark's way) every answer must be 200: the first that
 * is not is reported on stderr with its body, and the exit status is 1
 * after the rest; on stdout only
 *
 *	uploads N START_NS END_NS
 *
 * the realtime clock when the first upload began and when the last ended,
 * so that a script can take the span of several clients run at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct file {
	char *path;
	char *data;
	size_t len;
};

struct reply {
	char buf[1001];
	size_t len;
};

static size_t
keep_reply(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n, room = sizeof(r->buf) - 1 - r->len, i;

	if (len < room)
		room = len;
	for (i = 0; i < room; i++)
		r->buf[r->len++] = p[i] == '\n' || p[i] == '\r' ? ' ' : p[i];
	r->buf[r->len] = '\0';
	return len;
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
slurp(const char *path, struct file *f)
{
	FILE *fp;
	long n;

	if (!(fp = fopen(path, "rb")))
		return -1;
	if (fseek(fp, 0, SEEK_END) < 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) < 0 || !(f->data = malloc(n ? n : 1)) ||
	    fread(f->data, 1, n, fp) != (size_t)n || !(f->path = strdup(path))) {
		fclose(fp);
		return -1;
	}
	f->len = n;
	return fclose(fp);
}

int
main(int argc, char **argv)
{
	struct file *files = NULL;
	size_t nfiles = 0, cap = 0, i, failed = 0, not200 = 0;
	long long t0, t1;
	int summary = 0;
	struct curl_slist *hdrs = NULL;
	struct reply reply;
	char line[4096], auth[sizeof(line) + 32];
	CURL *c;
	FILE *fp;

	if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		summary = 1;
		argc--;
		argv++;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: upload [-s] url token-file list\n");
		return 2;
	}
	if (!(fp = fopen(argv[2], "r")) || !fgets(line, sizeof(line), fp)) {
		fprintf(stderr, "upload: cannot read '%s'\n", argv[2]);
		return 1;
	}
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", line);
	if (!(fp = fopen(argv[3], "r"))) {
		fprintf(stderr, "upload: cannot open '%s'\n", argv[3]);
		return 1;
	}
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		if (nfiles == cap) {
			cap = cap ? 2 * cap : 256;
			if (!(files = realloc(files, cap * sizeof(*files)))) {
				fprintf(stderr, "upload: out of memory\n");
				return 1;
			}
		}
		if (slurp(line, &files[nfiles]) < 0) {
			fprintf(stderr, "upload: cannot read '%s'\n", line);
			return 1;
		}
		nfiles++;
	}
	fclose(fp);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    !(c = curl_easy_init()) ||
	    !(hdrs = curl_slist_append(hdrs, auth)) ||
	    !(hdrs = curl_slist_append(hdrs, "Expect:")) ||
	    !(hdrs = curl_slist_append(hdrs,
	    "Content-Type: application/octet-stream"))) {
		fprintf(stderr, "upload: cannot set up libcurl\n");
		return 1;
	}
	curl_easy_setopt(c, CURLOPT_URL, argv[1]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);

	t0 = now_ns();
	for (i = 0; i < nfiles; i++) {
		CURLcode rc;
		long status = 0;

		reply.len = 0;
		reply.buf[0] = '\0';
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, files[i].data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)files[i].len);
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		else
			failed++;
		if (summary) {
			if (status != 200 && not200++ == 0)
				fprintf(stderr, "upload: '%s': %ld %s\n",
				    files[i].path, status, rc == CURLE_OK ?
				    reply.buf : curl_easy_strerror(rc));
		} else
			printf("%ld %s %s\n", status, files[i].path,
			    rc == CURLE_OK ? reply.buf : curl_easy_strerror(rc));
	}
	t1 = now_ns();
	if (summary)
		printf("uploads %zu %lld %lld\n", nfiles, t0, t1);

	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	for (i = 0; i < nfiles; i++) {
		free(files[i].data);
		free(files[i].path);
	}
	free(files);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	if (failed) {
		fprintf(stderr, "upload: %zu of %zu uploads got no answer\n",
		    failed, nfiles);
		return 1;
	}
	if (summary && not200) {
		fprintf(stderr, "upload: %zu of %zu uploads not answered 200\n",
		    not200, nfiles);
		return 1;
	}
	return 0;
}
