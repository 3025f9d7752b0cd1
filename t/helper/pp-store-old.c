/* pp-store-old: turns a store into one made before byattr.db (the host
 * and label index), or looks into that index, with Berkeley DB directly,
 * for the tests (t0310).
 *
 *   pp-store-old unindex DIR   remove byattr.db and flags.db, which a
 *                              store made before them does not have
 *   pp-store-old mark DIR      mark byattr.db complete, whatever it holds
 *   pp-store-old count DIR     print the number of keys in byattr.db
 *   pp-store-old hold DIR      hold the writer's lock (lock.db's "writer",
 *                              as every writing transaction takes it),
 *                              say "held", and keep it until standard
 *                              input ends
 *
 * Nothing else may use the store meanwhile. */
#include <db.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"

static DB_ENV *env;

static void
fail(int r, const char *what)
{
	pp_die("%s: %s", what, db_strerror(r));
}

static DB *
open_db(const char *name, u_int32_t flags)
{
	DB *db;
	int r;

	if ((r = db_create(&db, env, 0)) != 0)
		fail(r, name);
	if ((r = db->set_flags(db, flags)) != 0 ||
	    (r = db->open(db, NULL, name, NULL, DB_BTREE, DB_AUTO_COMMIT,
	    0600)) != 0)
		fail(r, name);
	return db;
}

static void
flag_key(DB *db, const char *key, int put)
{
	DBT k, v;
	int r;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)strlen(key);
	v.data = "1";
	v.size = 1;
	r = put ? db->put(db, NULL, &k, &v, DB_AUTO_COMMIT) :
	    db->del(db, NULL, &k, DB_AUTO_COMMIT);
	if (r != 0 && r != DB_NOTFOUND)
		fail(r, key);
}

int
main(int argc, char **argv)
{
	DB *db;
	DBC *c;
	DBT k, v;
	unsigned long n = 0;
	int r;

	pp_progname = "pp-store-old";
	if (argc != 3 || (strcmp(argv[1], "unindex") != 0 &&
	    strcmp(argv[1], "mark") != 0 && strcmp(argv[1], "count") != 0 &&
	    strcmp(argv[1], "hold") != 0))
		pp_die_usage("usage: pp-store-old unindex|mark|count|hold dir");
	if ((r = db_env_create(&env, 0)) != 0 ||
	    (r = env->open(env, argv[2], DB_CREATE | DB_INIT_TXN |
	    DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_REGISTER |
	    DB_RECOVER, 0600)) != 0)
		fail(r, argv[2]);
	if (strcmp(argv[1], "count") == 0) {
		db = open_db("byattr.db", DB_DUPSORT);
		if ((r = db->cursor(db, NULL, &c, 0)) != 0)
			fail(r, "byattr.db");
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		while ((r = c->get(c, &k, &v, DB_NEXT)) == 0)
			n++;
		if (r != DB_NOTFOUND)
			fail(r, "byattr.db");
		c->close(c);
		db->close(db, 0);
		printf("%lu\n", n);
	} else if (argv[1][0] == 'h') {
		DB_TXN *txn;
		char buf[64];

		db = open_db("lock.db", 0);
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		k.data = "writer";
		k.size = 6;
		if ((r = env->txn_begin(env, NULL, &txn, 0)) != 0 ||
		    (r = db->get(db, txn, &k, &v, DB_RMW)) != 0)
			fail(r, "lock.db");
		printf("held\n");
		fflush(stdout);
		while (fread(buf, 1, sizeof(buf), stdin) > 0)
			;
		txn->abort(txn);
		db->close(db, 0);
	} else if (argv[1][0] == 'm') {
		db = open_db("flags.db", 0);
		flag_key(db, "byattr", 1);
		flag_key(db, "byattr-next", 0);
		db->close(db, 0);
	} else if ((r = env->dbremove(env, NULL, "byattr.db", NULL,
	    DB_AUTO_COMMIT)) != 0 || (r = env->dbremove(env, NULL,
	    "flags.db", NULL, DB_AUTO_COMMIT)) != 0) {
		fail(r, "byattr.db, flags.db");
	}
	if ((r = env->close(env, 0)) != 0)
		fail(r, argv[2]);
	return 0;
}
