#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "client.h"
#include "util.h"

#define MAX_LISTING	((size_t)256 << 20)
#define MAX_PROFILE	((size_t)256 << 20)

struct sink {
	struct pp_buf b;
	size_t max;
	int over;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	n *= size;
	if (s->b.len + n > s->max) {
		s->over = 1;
		return 0;
	}
	pp_buf_add(&s->b, p, n);
	return s->b.oom ? 0 : n;
}

int
pp_client_get(const char *url, const char *token, size_t max, void **body,
    size_t *len, long *status, struct pp_err *e)
{
	struct curl_slist *h = NULL, *h2;
	struct sink s;
	char *auth = NULL;
	CURL *c = NULL;
	CURLcode cr;
	int rc;

	*body = NULL;
	*len = 0;
	*status = 0;
	memset(&s, 0, sizeof(s));
	pp_buf_init(&s.b);
	s.max = max;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
		auth = NULL;
		rc = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	if (!(c = curl_easy_init()) || !(h = curl_slist_append(NULL, auth))) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	if ((h2 = curl_slist_append(h, "Accept: application/json")))
		h = h2;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	cr = curl_easy_perform(c);
	if (s.over) {
		rc = pp_err_set(e, PP_ETOOBIG, "'%s': the answer is over %zu "
		    "bytes", url, max);
		goto out;
	}
	if (s.b.oom) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	if (cr != CURLE_OK) {
		rc = pp_err_set(e, PP_ENET, "cannot reach '%s': %s", url,
		    curl_easy_strerror(cr));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	pp_buf_add(&s.b, "", 0);	/* a NUL-terminated empty body too */
	if (s.b.oom) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	*body = s.b.data;
	*len = s.b.len;
	s.b.data = NULL;	/* transferred */
	rc = 0;
out:
	pp_buf_release(&s.b);
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
	free(auth);
	return rc;
}

/* The message of an error answer, {"error": "..."}, else a generic one. */
static int
answer_error(long status, const char *body, const char *url,
    struct pp_err *e)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *msg = j ? json_string_value(json_object_get(j, "error")) :
	    NULL;
	int code = status == 401 ? PP_EAUTH : status == 404 ? PP_ENOTFOUND :
	    status >= 500 || status == 408 || status == 429 ? PP_ENET :
	    PP_EPROTO;

	pp_err_set(e, code, "'%s' answered %ld%s%s", url, status,
	    msg ? ": " : "", msg ? msg : "");
	json_decref(j);
	return code;
}

static void
add_param(struct pp_buf *u, CURL *c, const char *name, const char *value)
{
	char *v = curl_easy_escape(c, value, 0);

	if (!v) {
		u->oom = true;
		return;
	}
	pp_buf_addf(u, "%c%s=%s", strchr(u->data, '?') ? '&' : '?', name, v);
	curl_free(v);
}

static char *
endpoint(const char *base, const char *path)
{
	size_t n = strlen(base);
	char *s;

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (asprintf(&s, "%.*s%s", (int)n, base, path) < 0)
		return NULL;
	return s;
}

static int
rec_from_json(json_t *o, struct pp_store_rec *r, const char **labels,
    size_t maxl)
{
	json_t *l = json_object_get(o, "labels");
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	const char *id = json_string_value(json_object_get(o, "id"));
	size_t i;

#define S(f) (json_string_value(json_object_get(o, f)) ? \
    json_string_value(json_object_get(o, f)) : "")
#define I(f) ((int64_t)json_integer_value(json_object_get(o, f)))
	memset(r, 0, sizeof(*r));
	if (!id || pp_store_id_parse(id, &r->id) < 0)
		return -1;
	r->owner = S("owner");
	r->program = S("program");
	r->host = S("host");
	r->type = S("type");
	r->sample_types = S("sample_types");
	r->pid = I("pid");
	r->start_ns = I("start_ns");
	r->duration_ns = I("duration_ns");
	r->received_ns = I("received_ns");
	r->size = (uint64_t)I("size");
	if (sha && strlen(sha) == PP_HEX256_LEN)
		pp_unhex(sha, r->sha256, PP_SHA256_LEN);
	for (i = 0; i < json_array_size(l) && i < maxl; i++)
		labels[i] = json_string_value(json_array_get(l, i)) ?
		    json_string_value(json_array_get(l, i)) : "";
	r->labels = labels;
	r->nlabels = i;
#undef S
#undef I
	return 0;
}

int
pp_client_list(const char *base, const char *token,
    const struct pp_store_filter *f,
    int (*fn)(const struct pp_store_rec *rec, void *arg), void *arg,
    struct pp_err *e)
{
	struct pp_buf u, lab;
	char *url = NULL, *body = NULL;
	const char *labels[64];
	json_t *j = NULL, *arr;
	size_t len, i;
	long status;
	CURL *c;
	int rc;

	pp_buf_init(&u);
	pp_buf_init(&lab);
	if (!(c = curl_easy_init()) || !(url = endpoint(base, "/v1/profiles"))) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	pp_buf_adds(&u, url);
	if (f->program)
		add_param(&u, c, "program", f->program);
	if (f->type || f->sample_type)
		add_param(&u, c, "type", f->type ? f->type : f->sample_type);
	if (f->host)
		add_param(&u, c, "host", f->host);
	for (i = 0; i < f->nlabels; i++)
		pp_buf_addf(&lab, "%s%s", i ? "," : "", f->labels[i]);
	if (lab.len)
		add_param(&u, c, "label", lab.data);
	/* The API speaks seconds: round the range outwards. */
	if (f->since_ns)
		pp_buf_addf(&u, "%csince=%lld", strchr(u.data, '?') ? '&' : '?',
		    (long long)(f->since_ns / 1000000000));
	if (f->until_ns)
		pp_buf_addf(&u, "%cuntil=%lld", strchr(u.data, '?') ? '&' : '?',
		    (long long)((f->until_ns + 999999999) / 1000000000));
	if (f->limit)
		pp_buf_addf(&u, "%climit=%zu", strchr(u.data, '?') ? '&' : '?',
		    f->limit);
	if (u.oom || lab.oom) {
		rc = pp_err_set(e, PP_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = pp_client_get(u.data, token, MAX_LISTING, (void **)&body,
	    &len, &status, e)) < 0)
		goto out;
	if (status != 200) {
		rc = answer_error(status, body, u.data, e);
		goto out;
	}
	if (!(j = json_loadb(body, len, 0, NULL)) ||
	    !json_is_array(arr = json_object_get(j, "profiles"))) {
		rc = pp_err_set(e, PP_EPROTO, "'%s' did not answer with a "
		    "listing", u.data);
		goto out;
	}
	if (json_is_true(json_object_get(j, "truncated")) && f->limit == 0) {
		rc = pp_err_set(e, PP_ETOOBIG, "'%s': more profiles match than "
		    "one listing holds (%zu); narrow the selection",
		    u.data, json_array_size(arr));
		goto out;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		struct pp_store_rec r;

		if (rec_from_json(json_array_get(arr, i), &r, labels,
		    sizeof(labels) / sizeof(labels[0])) < 0) {
			rc = pp_err_set(e, PP_EPROTO, "'%s': a listing entry "
			    "without an id", u.data);
			goto out;
		}
		if ((rc = fn(&r, arg)) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(j);
	free(body);
	free(url);
	pp_buf_release(&u);
	pp_buf_release(&lab);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}

int
pp_client_fetch(const char *base, const char *token, const char *id,
    void **data, size_t *len, struct pp_err *e)
{
	char *url = NULL, path[64];
	void *body = NULL;
	long status;
	int rc;

	*data = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "/v1/profiles/%.16s", id);
	if (!(url = endpoint(base, path)))
		return pp_err_set(e, PP_ENOMEM, "out of memory");
	if ((rc = pp_client_get(url, token, MAX_PROFILE, &body, len, &status,
	    e)) < 0)
		goto out;
	if (status != 200) {
		rc = answer_error(status, body, url, e);
		goto out;
	}
	*data = body;
	body = NULL;	/* transferred */
out:
	free(body);
	free(url);
	return rc;
}
