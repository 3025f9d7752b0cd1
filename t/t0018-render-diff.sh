#!/bin/bash
# pp-render of differences: --base FILE, and profiles whose base samples are
# negated and labelled pprof::base=true (as pp-query --base writes them),
# against go tool pprof -diff_base: -f top, -f dot, the SVG's colours,
# -f folded, and the flame graph.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pb.sh"

# go tool pprof's own outputs for the differences, made here (the shared
# profiles come from other projects: nothing made from them is kept in
# the repository).
DIFF=$TRASH_DIRECTORY/diff

if command -v go >/dev/null 2>&1 && go tool pprof -h >/dev/null 2>&1; then
	have_pprof=1
else
	have_pprof=
fi
if command -v python3 >/dev/null 2>&1; then
	have_python=1
else
	have_python=
fi

# same_dot EXPECTED ACTUAL: the same DOT graph, edges in any order (pprof's
# order of edges of opposite weights changes from run to run).
same_dot() {
	grep -v -- "->" "$1" >nodes.want && grep -v -- "->" "$2" >nodes.got &&
	test_cmp nodes.want nodes.got &&
	grep -- "->" "$1" | sort >edges.want && grep -- "->" "$2" | sort >edges.got &&
	test_cmp edges.want edges.got
}

# A small difference: a grew, b shrank, c went, d came, main gained self.
test_expect_success 'make a base and a new profile' '
	printf "main;a 10\nmain;b 30\nmain;c 5\n" | pp-test fromfolded >base.pb.gz &&
	printf "main;a 30\nmain;b 10\nmain;d 2\nmain 1\n" |
	pp-test fromfolded >new.pb.gz
'

test_expect_success '--base: the top table of the changes' '
	cat >expect <<-\EOF &&
	File: synthetic
	Type: cpu
	Showing nodes accounting for -20ms, 4.44% of 450ms total
	      flat  flat%   sum%        cum   cum%
	     200ms 44.44% 44.44%      200ms 44.44%  a
	    -200ms 44.44%     0%     -200ms 44.44%  b
	     -50ms 11.11% 11.11%      -50ms 11.11%  c
	      20ms  4.44%  6.67%       20ms  4.44%  d
	      10ms  2.22%  4.44%      -20ms  4.44%  main
	EOF
	pp-render -f top --base base.pb.gz new.pb.gz >actual &&
	test_cmp expect actual &&
	pp-render -f top --base base.pb.gz <new.pb.gz >actual &&
	test_cmp expect actual &&
	pp-render -f top --base=- new.pb.gz <base.pb.gz >actual &&
	test_cmp expect actual
'

test_expect_success '--base: folded stacks of the changes' '
	cat >expect <<-\EOF &&
	main 1
	main;a 20
	main;b -20
	main;c -5
	main;d 2
	EOF
	pp-render -f folded -i samples --base base.pb.gz new.pb.gz >actual &&
	test_cmp expect actual &&
	pp-render -f folded -i samples --base new.pb.gz new.pb.gz >actual &&
	test ! -s actual
'

test_expect_success '--base: the call graph colours growth red, shrinkage green' '
	pp-render -f dot -i samples --base base.pb.gz new.pb.gz >g.dot &&
	grep "^N[0-9]* \\[label=\"a\\\\n20 (44.44%)\".* color=\"#b2[0-9a-f]*\" fillcolor=\"#ed[0-9a-f]*\"\\]$" g.dot &&
	grep "^N[0-9]* \\[label=\"b\\\\n-20 (44.44%)\".* color=\"#[0-9a-f][0-9a-f]b2[0-9a-f]*\" fillcolor=\"#[0-9a-f][0-9a-f]ed[0-9a-f]*\"\\]$" g.dot
'

if test -n "$have_pprof"; then
	test_expect_success '--base: top, dot and traces are go tool pprof -diff_base'"'"'s' '
		for i in samples cpu; do
			go tool pprof -sample_index=$i -top -diff_base base.pb.gz \
				new.pb.gz >expect 2>/dev/null &&
			pp-render -f top -i $i --base base.pb.gz new.pb.gz >actual &&
			test_cmp expect actual &&
			go tool pprof -sample_index=$i -dot -diff_base base.pb.gz \
				new.pb.gz >expect 2>/dev/null &&
			pp-render -f dot -i $i --base base.pb.gz new.pb.gz >actual &&
			same_dot expect actual || return 1
		done
	'
else
	test_skip '--base against go tool pprof' 'go tool pprof is not installed'
fi

# The same difference, hand-made as pp-query --base writes it: one sample
# type (samples/count), the base's samples negated and labelled.
test_expect_success 'a profile with its base in it is a difference' '
	ST=$(pb_len 1 $(pb_int 1 1) $(pb_int 2 2)) &&
	MAP=$(pb_len 3 $(pb_int 1 1) $(pb_int 2 4096) $(pb_int 3 65536) \
		$(pb_int 5 5)) &&
	LOCS= FUNCS= &&
	for i in 1 2 3 4 5; do
		LOCS="$LOCS $(pb_len 4 $(pb_int 1 $i) $(pb_int 2 1) \
			$(pb_int 3 $((4096 + i))) $(pb_len 4 $(pb_int 1 $i)))" &&
		FUNCS="$FUNCS $(pb_len 5 $(pb_int 1 $i) $(pb_int 2 $((5 + i))))" ||
		return 1
	done &&
	BASE=$(pb_len 3 $(pb_int 1 11) $(pb_int 2 12)) &&
	sample() { pb_len 2 $(pb_len 1 $1) $(pb_len 2 $(pb_varint $2)) $3; } &&
	pb_write $ST $MAP $LOCS $FUNCS \
		$(sample "02 01" 30) $(sample "03 01" 10) $(sample "05 01" 2) \
		$(sample "01" 1) $(sample "02 01" -10 "$BASE") \
		$(sample "03 01" -30 "$BASE") $(sample "04 01" -5 "$BASE") \
		$(pb_str ""; pb_str samples; pb_str count; pb_str main.c;
		pb_str ""; pb_str "/usr/bin/synthetic"; pb_str main; pb_str a;
		pb_str b; pb_str c; pb_str d; pb_str pprof::base;
		pb_str true) >diff.pb &&
	pp-render -f top diff.pb >actual &&
	pp-render -f top -i samples --base base.pb.gz new.pb.gz >expect &&
	test_cmp expect actual &&
	pp-render -f folded diff.pb >actual &&
	pp-render -f folded -i samples --base base.pb.gz new.pb.gz >expect &&
	test_cmp expect actual &&
	if test -n "$have_pprof"; then
		go tool pprof -symbolize=none -top diff.pb >expect 2>/dev/null &&
		pp-render -f top diff.pb >actual &&
		test_cmp expect actual
	fi
'

if test -n "$have_python"; then
	test_expect_success 'flame graph: widths of the new profile, colours of the change' '
		pp-render -f flame -i samples --base base.pb.gz new.pb.gz >d.svg &&
		pp-render -f folded -i samples new.pb.gz >new.folded &&
		pp-render -f folded -i samples base.pb.gz >base.folded &&
		python3 "$TEST_DIRECTORY/data/flame-check.py" d.svg \
			--folded new.folded --base-folded base.folded --names >out &&
		cat >expect <<-\EOF &&
		all
		main
		a
		b
		d
		frames 5 remainders 0 depth 2
		EOF
		test_cmp expect out &&
		grep -q "data-diff=\"1\"" d.svg &&
		grep -q ">Flame graph of a difference<" d.svg &&
		grep -q "Type: samples, base 45, new 43; width: new, red grew, green shrank<" d.svg &&
		grep -q "^change +20 (+44.44%)" d.svg &&
		grep -q "^change -20 (-44.44%)" d.svg &&
		grep -q "^1 callee only in the base: 5<" d.svg &&
		pp-render -f flame diff.pb >d2.svg &&
		grep "data-[xwe]=\\|^change" d.svg >frames.want &&
		grep "data-[xwe]=\\|^change" d2.svg >frames.got &&
		test_cmp frames.want frames.got
	'

	test_expect_success 'flame graph: --colors does not change a difference' '
		pp-render -f flame --colors heat -i samples --base base.pb.gz \
			new.pb.gz >heat.svg &&
		test_cmp d.svg heat.svg
	'
else
	test_skip 'flame graphs of differences' 'python3 is not installed'
fi

test_expect_success '--base: a base of other sample types is refused' '
	pb_write $(pb_len 1 $(pb_int 1 1) $(pb_int 2 2)) \
		$(pb_len 11 $(pb_int 1 3) $(pb_int 2 4)) $(pb_int 12 10000000) \
		$(pb_str ""; pb_str bytes; pb_str count; pb_str cpu;
		pb_str nanoseconds) >other.pb &&
	render_fails top "^pp-render: cannot compare with the base: .*sample types" \
		--base other.pb new.pb.gz &&
	render_fails flame "^pp-render: cannot open '\''missing.pb'\''" \
		--base missing.pb new.pb.gz &&
	test_expect_code 2 pp-render -f top --base - <new.pb.gz >out 2>err &&
	grep "^pp-render: the profile and its base cannot both be read from the standard input" err &&
	test ! -s out
'

test_have_shared || skip_all "no shared test profiles at $SHARED_PROFILES"

# node-colours.py DOT SVG: the nodes of the SVG have the colours that DOT
# gives them, and these are red for some, green for others.
cat >node-colours.py <<\EOF
import re, sys
import xml.etree.ElementTree as E
N = "{http://www.w3.org/2000/svg}"
want = {}
for line in open(sys.argv[1]):
    m = re.match(r'(N\d+) \[label=.* color="(#\w+)" fillcolor="(#\w+)"\]$', line)
    if m:
        want[m.group(1)] = (m.group(3), m.group(2))
got = {}
for g in E.parse(sys.argv[2]).getroot().iter(N + "g"):
    t = g.find(N + "title")
    if g.get("class") == "node" and re.match(r"N\d+$", t.text):
        p = next(g.iter(N + "polygon"))
        got[t.text] = (p.get("fill"), p.get("stroke"))
red = sum(1 for f, s in want.values() if int(s[1:3], 16) > int(s[3:5], 16))
green = sum(1 for f, s in want.values() if int(s[1:3], 16) < int(s[3:5], 16))
print("%d nodes, %d red, %d green" % (len(want), red, green))
for k in sorted(set(want) | set(got)):
    if want.get(k) != got.get(k):
        print("%s: %s, pprof: %s" % (k, got.get(k), want.get(k)))
sys.exit(not (want == got and len(want) > 3 and red > 0 and green > 0))
EOF

# pair NAME: the base, the new profile and pprof's -sample_index of NAME.
pair() {
	case $1 in
	sample-to-go-cpu) echo "pprof-sample.cpu go-cpu" ;;
	go-cpu-to-fib) echo "go-cpu parca-fib" ;;
	heap-t0-to-go-heap) echo "parca-heap-t0 go-heap alloc_space" ;;
	fib-to-go-cpu.samples) echo "parca-fib go-cpu samples" ;;
	esac
}

for name in sample-to-go-cpu go-cpu-to-fib heap-t0-to-go-heap \
    fib-to-go-cpu.samples; do
	set -- $(pair $name)
	base=$SHARED_PROFILES/$1.pb.gz new=$SHARED_PROFILES/$2.pb.gz
	type=${3:+-i $3} pidx=${3:+-sample_index=$3}

	if test -z "$have_pprof"; then
		test_skip "$name: pprof -diff_base against pp-render --base" \
			'go tool pprof is not installed'
		continue
	fi

	test_expect_success "$name: top and dot are pprof -diff_base's" '
		mkdir -p "$DIFF" &&
		TZ=UTC go tool pprof -symbolize=none $pidx -top \
			-diff_base "$base" "$new" >"$DIFF/$name.top" 2>/dev/null &&
		TZ=UTC go tool pprof -symbolize=none $pidx -dot \
			-diff_base "$base" "$new" >"$DIFF/$name.dot" 2>/dev/null &&
		pp-render -f top $type --base "$base" "$new" >actual &&
		test_cmp "$DIFF/$name.top" actual &&
		pp-render -f dot $type --base "$base" "$new" >actual &&
		same_dot "$DIFF/$name.dot" actual
	'

	if test -n "$have_python"; then
		test_expect_success "$name: the SVG's nodes have pprof's colours" '
			pp-render $type --base "$base" "$new" >g.svg &&
			python3 node-colours.py "$DIFF/$name.dot" g.svg
		'
	fi

	test_expect_success "$name: folded stacks are the changes" '
		pp-render -f folded $type "$new" >new.folded &&
		pp-render -f folded $type "$base" >base.folded &&
		{
			cat new.folded &&
			awk "{ \$NF = -\$NF; print }" base.folded
		} | awk "{
			v = \$NF; \$NF = \"\"; sub(/ \$/, \"\"); s[\$0] += v
		} END { for (k in s) if (s[k] != 0) printf \"%s %.0f\\n\", k, s[k] }" |
		LC_ALL=C sort >expect &&
		pp-render -f folded $type --base "$base" "$new" >actual &&
		test_cmp expect actual
	'

	if test -n "$have_python"; then
		test_expect_success "$name: the flame graph of the difference" '
			pp-render -f flame $type --base "$base" "$new" >d.svg &&
			python3 "$TEST_DIRECTORY/data/flame-check.py" d.svg \
				--folded new.folded --base-folded base.folded >out &&
			cat out &&
			grep -q "data-diff=\"1\"" d.svg
		'
	fi
done

if test -n "$have_pprof"; then
	# pprof's -traces of a difference, summed by stack as t0012 does.
	test_expect_success 'folded stacks of a difference are pprof'"'"'s traces summed' '
		go tool pprof -symbolize=none -traces \
			-diff_base "$SHARED_PROFILES/pprof-sample.cpu.pb.gz" \
			"$SHARED_PROFILES/go-cpu.pb.gz" 2>/dev/null |
		awk "
		function flush() {
			if (n > 0 && value != 0) {
				s = frames[n]
				for (i = n - 1; i >= 1; i--)
					s = s \";\" frames[i]
				sum[s] += value
			}
			n = 0
		}
		function parse(v,    num, unit) {
			num = v; sub(/[a-zA-Z]+\$/, \"\", num)
			unit = v; sub(/^[-0-9.]+/, \"\", unit)
			if (unit == \"s\") return num * 1e9
			if (unit == \"ms\") return num * 1e6
			if (unit == \"us\") return num * 1e3
			return num + 0
		}
		/^-----------\\+/ { flush(); inblock = 1; next }
		!inblock { next }
		/^             / {
			f = substr(\$0, 14); sub(/ \\(inline\\)\$/, \"\", f)
			frames[++n] = f; next
		}
		substr(\$0, 11, 3) == \"   \" {
			v = substr(\$0, 1, 10); gsub(/ /, \"\", v); value = parse(v)
			f = substr(\$0, 14); sub(/ \\(inline\\)\$/, \"\", f)
			frames[++n] = f; next
		}
		END {
			flush()
			for (s in sum) if (sum[s] != 0) printf \"%s %.0f\\n\", s, sum[s]
		}" | LC_ALL=C sort >expect &&
		test_line_count -gt 20 expect &&
		grep -q " -[0-9]" expect &&
		pp-render -f folded --base "$SHARED_PROFILES/pprof-sample.cpu.pb.gz" \
			"$SHARED_PROFILES/go-cpu.pb.gz" >actual &&
		test_cmp expect actual
	'
fi

test_done
