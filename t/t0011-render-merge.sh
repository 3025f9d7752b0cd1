#!/bin/bash
# Profiles written by libpp, merges and filters, checked against the goldens
# and, where Go is installed, against go tool pprof in the same run.
. "$(dirname "$0")/lib.sh"

test_have_shared || skip_all "no shared test profiles at $SHARED_PROFILES"
have_go() { command -v go >/dev/null 2>&1; }
pprof() { go tool pprof -symbolize=none "$@" 2>/dev/null; }

for f in "$SHARED_PROFILES"/*.pb.gz; do
	name=$(basename "$f" .pb.gz)
	test_expect_success "$name written by libpp reads back the same" '
		pp-test roundtrip <"$f" >rt.pb.gz &&
		pp-render -f top rt.pb.gz >actual &&
		test_cmp "$SHARED_PROFILES/expected/$name.top" actual
	'
done

if have_go; then
	test_expect_success 'go tool pprof reads what libpp writes' '
		for f in "$SHARED_PROFILES"/*.pb.gz; do
			name=$(basename "$f" .pb.gz) &&
			pp-test roundtrip <"$f" >rt.pb.gz &&
			pprof -top rt.pb.gz >actual &&
			test_cmp "$SHARED_PROFILES/expected/$name.top" actual ||
			return 1
		done
	'
fi

test_expect_success 'a profile merged with itself has twice the values' '
	f=$SHARED_PROFILES/pprof-large.cpu.pb.gz &&
	pp-test merge "$f" "$f" >twice.pb.gz &&
	pp-test scale 2 <"$f" >doubled.pb.gz &&
	pp-render -f top twice.pb.gz | grep -v ^Duration >actual &&
	pp-render -f top doubled.pb.gz | grep -v ^Duration >expect &&
	test_cmp expect actual &&
	pp-render -f top twice.pb.gz | grep "^Duration: 480.72s,"
'

test_expect_success 'merging deduplicates functions, locations, samples' '
	f=$SHARED_PROFILES/go-cpu.pb.gz &&
	pp-test merge "$f" | pp-test summary >one &&
	pp-test merge "$f" "$f" "$f" | pp-test summary >three &&
	test_cmp one three &&
	if have_go; then
		pprof -proto "$f" "$f" "$f" | pp-test summary >go &&
		test_cmp go three
	fi
'

test_expect_success 'scale -1 negates: a profile minus itself is empty' '
	f=$SHARED_PROFILES/go-cpu.pb.gz &&
	pp-test scale -1 <"$f" >neg.pb.gz &&
	pp-test merge "$f" neg.pb.gz | pp-test summary >actual &&
	grep "^samples 0$" actual
'

if have_go; then
	test_expect_success 'pp-render merges several files as pprof does' '
		t0=$SHARED_PROFILES/parca-heap-t0.pb.gz &&
		t1=$SHARED_PROFILES/parca-heap-t1.pb.gz &&
		pp-render -f top "$t0" "$t1" >actual &&
		pprof -top "$t0" "$t1" >expect &&
		test_cmp expect actual &&
		pp-render -f dot "$t0" "$t1" >actual &&
		pprof -dot "$t0" "$t1" >expect &&
		test_cmp expect actual
	'
	test_expect_success '--focus and --ignore filter as pprof does' '
		f=$SHARED_PROFILES/go-cpu.pb.gz &&
		pp-render -f top --focus sort --ignore Less "$f" >actual &&
		pprof -top -focus=sort -ignore=Less "$f" >expect &&
		test_cmp expect actual &&
		grep "^Active filters:" actual &&
		f=$SHARED_PROFILES/pprof-large.cpu.pb.gz &&
		pp-render -f dot --focus runtime "$f" >actual &&
		pprof -dot -focus=runtime "$f" >expect &&
		test_cmp expect actual
	'
	test_expect_success '-n, --nodefraction, --edgefraction as pprof' '
		f=$SHARED_PROFILES/pprof-large.cpu.pb.gz &&
		pp-render -f dot -n 30 --nodefraction 0.001 --edgefraction 0.01 \
			"$f" >actual &&
		pprof -dot -nodecount=30 -nodefraction=0.001 \
			-edgefraction=0.01 "$f" >expect &&
		test_cmp expect actual &&
		f=$SHARED_PROFILES/parca-alloc_objects.pb.gz &&
		pp-render -f dot -n 200 --nodefraction 0 --edgefraction 0 \
			"$f" >actual &&
		pprof -dot -nodecount=200 -nodefraction=0 -edgefraction=0 \
			"$f" >expect &&
		test_cmp expect actual
	'
else
	test_skip 'comparisons with go tool pprof' 'go is not installed'
fi

test_done
