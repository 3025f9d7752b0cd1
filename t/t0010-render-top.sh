#!/bin/bash
# pp-render -f top and -f dot against go tool pprof's own output
# (../shared/testdata/profiles/expected, made with -symbolize=none).
. "$(dirname "$0")/lib.sh"

test_have_shared || skip_all "no shared test profiles at $SHARED_PROFILES"

for f in "$SHARED_PROFILES"/*.pb.gz; do
	name=$(basename "$f" .pb.gz)
	exp=$SHARED_PROFILES/expected/$name
	if [ -f "$exp.top" ]; then
		test_expect_success "top of $name is pprof's" '
			pp-render -f top "$f" >actual &&
			test_cmp "$exp.top" actual
		'
	fi
	if [ -f "$exp.dot" ]; then
		test_expect_success "dot of $name is pprof's" '
			pp-render -f dot "$f" >actual &&
			test_cmp "$exp.dot" actual
		'
	fi
done

test_expect_success 'top reads stdin and raw (uncompressed) protobuf' '
	f=$SHARED_PROFILES/pprof-sample.cpu.pb.gz &&
	gzip -dc "$f" >raw.pb &&
	pp-render -f top <raw.pb >actual &&
	test_cmp "$SHARED_PROFILES/expected/pprof-sample.cpu.top" actual
'

test_expect_success '-i picks a sample type by name and by index' '
	f=$SHARED_PROFILES/go-heap.pb.gz &&
	pp-render -f top -i inuse_space "$f" >by-name &&
	test_cmp "$SHARED_PROFILES/expected/go-heap.top" by-name &&
	pp-render -f top -i 3 "$f" >by-index &&
	test_cmp by-name by-index &&
	pp-render -f top -i alloc_space "$f" >alloc &&
	grep "^Type: alloc_space$" alloc
'

test_expect_success '-o writes the report to a file' '
	f=$SHARED_PROFILES/go-cpu.pb.gz &&
	pp-render -f top -o out.txt "$f" >stdout &&
	test ! -s stdout &&
	test_cmp "$SHARED_PROFILES/expected/go-cpu.top" out.txt
'

test_expect_success '-n limits the nodes of the top table' '
	pp-render -f top -n 5 "$SHARED_PROFILES/go-cpu.pb.gz" >actual &&
	grep "^Showing top 5 nodes out of" actual &&
	sed -n "/flat%/,\$p" actual >rows &&
	test_line_count = 6 rows
'

test_done
