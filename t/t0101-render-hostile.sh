#!/bin/bash
# pp-render on hostile profiles, after a fuzzing run: each test is a defect
# found then.  Valid-looking input that once crashed a sanitizer build, broke
# the DOT given to Graphviz or the SVG, wrote multi-line messages, or took
# minutes or gigabytes: it must now render, or fail in one line.  The
# profiles are hand-crafted here (as in t0100) or made by pp-test fromfolded.
. "$(dirname "$0")/lib.sh"

. "$TEST_DIRECTORY/lib-pb.sh"

# A small valid profile, after profile.proto: main (location 1, function 1)
# calls leaf (location 2, function 2), one sample of value $V1; a second
# sample of value $V2 in main alone when V2 is set.  Override a part for one
# call, as in V1=7 mkprof x.pb; EXTRA holds more Profile fields, and strings
# from index 7 on are EXTRA_STRS.
ST=$(pb_len 1 $(pb_int 1 1) $(pb_int 2 2))		# samples/count
MAP=$(pb_len 3 $(pb_int 1 1) $(pb_int 2 4096) $(pb_int 3 1048576) \
	$(pb_int 5 5))					# id 1, /bin/x
LOC=$(pb_len 4 $(pb_int 1 1) $(pb_int 2 1) $(pb_int 3 4097) \
	$(pb_len 4 $(pb_int 1 1) $(pb_int 2 10))
	pb_len 4 $(pb_int 1 2) $(pb_int 2 1) $(pb_int 3 4098) \
	$(pb_len 4 $(pb_int 1 2) $(pb_int 2 20)))
FUNC=$(pb_len 5 $(pb_int 1 1) $(pb_int 2 3) $(pb_int 3 3) $(pb_int 4 4)
	pb_len 5 $(pb_int 1 2) $(pb_int 2 6) $(pb_int 3 6) $(pb_int 4 4))
STRS=$(pb_str ''; pb_str samples; pb_str count; pb_str main;
	pb_str main.go; pb_str /bin/x; pb_str leaf)
V1=5 V2= LABEL= EXTRA= EXTRA_STRS=

mkprof() {
	local samples
	samples=$(pb_len 2 $(pb_len 1 02 01) $(pb_len 2 $(pb_varint "$V1")) \
		$LABEL)
	if [ -n "$V2" ]; then
		samples="$samples $(pb_len 2 $(pb_len 1 01) \
			$(pb_len 2 $(pb_varint "$V2")))"
	fi
	pb_write $ST $samples $MAP $LOC $FUNC $EXTRA $STRS $EXTRA_STRS >"$1"
}

# mkcallee NAME FILE: a profile where main calls a third function, NAME
# (location 3, function 3, string 7), one sample of value 9.
mkcallee() {
	pb_write $ST $(pb_len 2 $(pb_len 1 03 01) $(pb_len 2 09)) $MAP $LOC \
		$(pb_len 4 $(pb_int 1 3) $(pb_int 2 1) $(pb_int 3 4099) \
		$(pb_len 4 $(pb_int 1 3) $(pb_int 2 30))) \
		$FUNC $(pb_len 5 $(pb_int 1 3) $(pb_int 2 7) $(pb_int 3 7) \
		$(pb_int 4 4)) $STRS $(pb_str "$1") >"$2"
}

if python3 -c 'import xml.dom.minidom' 2>/dev/null; then
	have_python=1
else
	have_python=
fi

# well_formed FILE: FILE is well-formed XML, when python3 can tell.
well_formed() {
	test -z "$have_python" ||
	python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' \
		"$1"
}

# renders FORMAT FILE...: pp-render -f FORMAT FILE... succeeds, quietly, and
# its output, in out, looks whole for its format.
renders() {
	local fmt=$1
	shift
	pp-render -f "$fmt" "$@" >out 2>err || {
		cat err
		return 1
	}
	cat err &&
	test ! -s err &&
	case $fmt in
	top)	grep "^Showing nodes accounting for " out ;;
	dot)	head -n 1 out | grep "^digraph \".*\" {$" &&
		tail -n 1 out | grep "^}$" ;;
	svg)	grep "^<svg" out && tail -n 1 out | grep "</svg>" &&
		well_formed out ;;
	folded)	test -s out ;;
	esac
}

test_expect_success 'the hand-crafted profile is valid' '
	mkprof valid.pb &&
	cat >expect <<-\EOF &&
	File: x
	Type: samples
	Showing nodes accounting for 5, 100% of 5 total
	      flat  flat%   sum%        cum   cum%
	         5   100%   100%          5   100%  leaf
	         0     0%   100%          5   100%  main
	EOF
	pp-render -f top valid.pb >actual &&
	test_cmp expect actual &&
	pp-render -f folded valid.pb >actual &&
	echo "main;leaf 5" >expect &&
	test_cmp expect actual &&
	V2=3 mkprof valid2.pb &&
	pp-render -f folded valid2.pb >actual &&
	printf "main 3\nmain;leaf 5\n" >expect &&
	test_cmp expect actual
'

# D3: a location without lines (a bare address) made the merge memcpy from
# NULL, which UBSan reports.
test_expect_success 'D3: profiles with a location of no lines are merged' '
	LOC="$LOC $(pb_len 4 $(pb_int 1 3) $(pb_int 2 1) $(pb_int 3 8192))" \
		V2= mkprof nolines.pb &&
	pb_write $ST $(pb_len 2 $(pb_len 1 03 02 01) $(pb_len 2 07)) \
		$(pb_len 2 $(pb_len 1 03) $(pb_len 2 02)) \
		$MAP $LOC $(pb_len 4 $(pb_int 1 3) $(pb_int 2 1) \
		$(pb_int 3 8192)) $FUNC $STRS >nolines-used.pb &&
	for fmt in top dot svg folded; do
		renders $fmt nolines.pb nolines.pb &&
		renders $fmt nolines-used.pb nolines-used.pb &&
		renders $fmt nolines-used.pb nolines.pb valid.pb || return 1
	done &&
	pp-render -f top nolines-used.pb nolines-used.pb >out &&
	grep "Showing nodes accounting for 18, 100% of 18 total" out &&
	grep "^ *18   100%   100%         18   100%  \\[x\\]$" out
'

# D5: values are bounded, so that no total, node, edge or merge overflows:
# a sample type whose absolute values add up past 2^60 is refused.
while IFS='|' read -r v1 v2 what; do
	test_expect_success "D5: refused: $what" '
		V1=$v1 V2=$v2 mkprof big.pb &&
		for fmt in top dot svg folded; do
			render_fails $fmt "^pp-render: cannot read '\''big\.pb'\'': .*2\^60" \
				big.pb || return 1
		done
	'
done <<EOF
$(((1 << 59) + 1))|$(((1 << 59) + 1))|two values of 2^59 + 1
$((1 << 62))|$((1 << 62))|two values of 2^62, whose sum overflows
$(((1 << 60) + 1))||one value of 2^60 + 1
$((-(1 << 60) - 1))||one value of -2^60 - 1
$((-(1 << 59) - 1))|$(((1 << 59) + 1))|-2^59 - 1 and 2^59 + 1, of total 0
$((1 << 63))||a value of INT64_MIN
$(((1 << 63) + 1))|$((-(1 << 63) - 1))|values of INT64_MIN + 1 and INT64_MAX
EOF

test_expect_success 'D5: merged profiles whose values add up past 2^62 are refused' '
	V1=$((1 << 60)) mkprof 2-60.pb &&
	pp-render -f top 2-60.pb 2-60.pb 2-60.pb 2-60.pb >out &&
	grep "of 4611686018427387904 total" out &&
	render_fails top "^pp-render: cannot merge profiles: .*overflow" \
		2-60.pb 2-60.pb 2-60.pb 2-60.pb 2-60.pb &&
	render_fails svg "^pp-render: cannot merge profiles: .*overflow" \
		2-60.pb 2-60.pb 2-60.pb 2-60.pb 2-60.pb 2-60.pb 2-60.pb 2-60.pb
'

# Within the bounds, every format renders (under SANITIZE=1 too: these
# overflowed in the edge weights, the node order and the units).
while IFS='|' read -r v1 v2 what; do
	test_expect_success "D5: rendered: $what" '
		V1=$v1 V2=$v2 mkprof near.pb &&
		for fmt in top dot svg folded; do
			renders $fmt near.pb || return 1
		done &&
		pp-render -f folded near.pb >out &&
		if [ -n "$v2" ]; then
			printf "main %s\n" "$v2"
		fi >expect &&
		printf "main;leaf %s\n" "$v1" >>expect &&
		test_cmp expect out
	'
done <<EOF
$((1 << 59))|$((1 << 59))|two values of 2^59, 2^60 in all
$(((1 << 60) - 1))||one value of 2^60 - 1
$((-(1 << 59)))|$((-(1 << 59)))|two values of -2^59
$((-(1 << 59)))|$((1 << 59))|-2^59 and 2^59, of total 0
$(((1 << 60) - 2))|1|2^60 - 2 and 1
EOF

test_expect_success 'D5: the DOT edge weight of a huge value does not wrap' '
	V1=$((1 << 59)) V2=$((1 << 59)) mkprof near.pb &&
	pp-render -f dot near.pb >out &&
	grep "^N[0-9]* -> N[0-9]* \[label=\" 576460752303423488\" weight=51 penwidth=3 " out
'

test_expect_success 'D5: a duration of INT64_MIN' '
	EXTRA=$(pb_int 10 $((1 << 63))) mkprof dur-min.pb &&
	EXTRA=$(pb_int 10 $(((1 << 63) - 1))) mkprof dur-max.pb &&
	EXTRA=$(pb_int 10 $((1 << 63))) V1=$((1 << 59)) V2=$((1 << 59)) \
		mkprof dur-min-big.pb &&
	for f in dur-min.pb dur-max.pb dur-min-big.pb; do
		for fmt in top dot svg folded; do
			renders $fmt $f || return 1
		done
	done &&
	pp-render -f top dur-min.pb >out &&
	grep "^Duration: " out
'

test_expect_success 'D5: a duration of INT64_MIN, in nanoseconds' '
	ST=$(pb_len 1 $(pb_int 1 7) $(pb_int 2 8)) \
	EXTRA_STRS=$(pb_str cpu; pb_str nanoseconds) \
	EXTRA=$(pb_int 10 $((1 << 63))) V1=$((1 << 59)) V2=$((1 << 59)) \
		mkprof dur-min-ns.pb &&
	for fmt in top dot svg folded; do
		renders $fmt dur-min-ns.pb || return 1
	done
'

# D6: strings from the profile went into the DOT unescaped, and Graphviz
# could not parse it: the mapping file (the graph's title), a string label
# (a nodelet), the sample unit.
test_expect_success 'D6: quotes and backslashes in the mapping file name' '
	MAP=$(pb_len 3 $(pb_int 1 1) $(pb_int 2 4096) $(pb_int 3 1048576) \
		$(pb_int 5 7)) EXTRA_STRS=$(pb_str "/lib/a\"b\\c\\\"d.so\\") \
		mkprof d6-title.pb &&
	renders svg d6-title.pb &&
	grep -F ">File: a&quot;b\\c\\&quot;d.so\\<" out &&
	renders dot d6-title.pb &&
	pp-render -f top d6-title.pb >out &&
	grep "^File: a\"b\\\\c\\\\\"d.so\\\\$" out
'

test_expect_success 'D6: quotes and backslashes in a string label' '
	LABEL=$(pb_len 3 $(pb_int 1 7) $(pb_int 2 8)) \
	EXTRA_STRS=$(pb_str "k\"ey\\"; pb_str "v\"al\\\"ue\\") \
		mkprof d6-label.pb &&
	renders svg d6-label.pb &&
	grep -F ">k&quot;ey\\:v&quot;al\\&quot;ue\\<" out &&
	renders dot d6-label.pb &&
	grep -F "k\\\"ey\\\\:v\\\"al\\\\\\\"ue\\\\" out &&
	LABEL="$LABEL $(pb_len 3 $(pb_int 1 9) $(pb_int 2 8))" \
	EXTRA_STRS=$(pb_str "k\"ey\\"; pb_str "v\"al\\\"ue\\"; pb_str "\"") \
		mkprof d6-labels.pb &&
	renders svg d6-labels.pb
'

test_expect_success 'D6: quotes and backslashes in the sample unit' '
	ST=$(pb_len 1 $(pb_int 1 1) $(pb_int 2 7)) \
	EXTRA_STRS=$(pb_str "c\"ount\\") mkprof d6-unit.pb &&
	renders svg d6-unit.pb &&
	grep -F ">5c&quot;ount\\ (100%)<" out &&
	renders dot d6-unit.pb &&
	ST=$(pb_len 1 $(pb_int 1 7) $(pb_int 2 8)) \
	EXTRA_STRS=$(pb_str "\"\\"; pb_str "\\\"") mkprof d6-type.pb &&
	renders svg d6-type.pb
'

# D7: control characters and bytes that are not UTF-8 went into the SVG,
# which was then not XML.
test_expect_success 'D7: control characters and bad UTF-8 in a function name' '
	mkcallee "$(printf "ctl\\001a\\037b\\377c\\177d\\300\\200e")" d7.pb &&
	renders svg d7.pb &&
	grep -F ">ctl?a?b?c?d??e<" out &&
	test_must_fail grep -a "$(printf "[\\001\\037\\177\\377\\300]")" out &&
	renders dot d7.pb &&
	grep -F "ctl?a?b?c?d??e" out &&
	test_must_fail grep -a "$(printf "[\\001\\037\\177\\377\\300]")" out
'

test_expect_success 'D7: valid UTF-8 in a function name is kept' '
	name=$(printf "caf\\303\\251_\\342\\202\\254_\\360\\237\\230\\200") &&
	mkcallee "$name" utf8.pb &&
	renders svg utf8.pb &&
	grep -F ">$name<" out
'

# D8: strings from the profile, quoted in an error message, could make it
# several lines.
test_expect_success 'D8: a newline in a bad drop_frames expression' '
	EXTRA=$(pb_int 7 7) EXTRA_STRS=$(pb_str "$(printf "(\\nsecond line")") \
		mkprof d8-drop.pb &&
	for fmt in top dot svg folded; do
		render_fails $fmt "^pp-render: bad drop_frames expression .*second line" \
			d8-drop.pb || return 1
	done &&
	EXTRA=$(pb_int 7 7) \
	EXTRA_STRS=$(pb_str "$(printf "(\\r\\n\\n\\033[2Jx\\n")") \
		mkprof d8-drop2.pb &&
	render_fails top "^pp-render: bad drop_frames expression" d8-drop2.pb &&
	test_must_fail grep "$(printf "[\\r\\033]")" err
'

test_expect_success 'D8: a newline in incompatible period types' '
	EXTRA="$(pb_len 11 $(pb_int 1 7) $(pb_int 2 8)) $(pb_int 12 100)" \
	EXTRA_STRS=$(pb_str "$(printf "cpu\\nFAKE: injected")"; pb_str ns) \
		mkprof d8-period.pb &&
	for fmt in top dot svg folded; do
		render_fails $fmt "^pp-render: cannot merge profiles: incompatible period types cpu.FAKE: injected/ns and /" \
			d8-period.pb valid.pb || return 1
	done
'

test_expect_success 'D8: a newline in incompatible sample types' '
	ST=$(pb_len 1 $(pb_int 1 7) $(pb_int 2 2)) \
	EXTRA_STRS=$(pb_str "$(printf "samples\\nFAKE: injected")") \
		mkprof d8-type.pb &&
	render_fails top "^pp-render: cannot merge profiles: incompatible sample types: samples/count and samples.FAKE: injected/count" \
		valid.pb d8-type.pb
'

# D9: a small gzip of many empty messages took gigabytes and seconds to be
# refused; the inflated size is capped at 128 MiB.
test_expect_success 'D9: make a gzip of 20 MB of empty samples, and one of 140 MiB' '
	printf "\\022\\000%.0s" $(seq 1024) >empty-samples &&
	for i in $(seq 13); do
		cat empty-samples empty-samples >x && mv x empty-samples ||
		return 1
	done &&
	test $(wc -c <empty-samples) = 16777216 &&
	{ cat empty-samples && head -c 4194304 empty-samples; } |
		gzip -9 >empty-samples.gz &&
	rm empty-samples &&
	test $(wc -c <empty-samples.gz) -lt 100000 &&
	head -c 140M /dev/zero | gzip -1 >zeros-140m.gz &&
	test $(wc -c <zeros-140m.gz) -lt 1000000
'

# limited CMD...: CMD, in a subshell limited to 640 MiB of address space
# when pp-render runs under it (not a sanitizer build, which reserves
# terabytes of it): decoding these took gigabytes, now a few hundred MB.
limited() {
	if (ulimit -v 655360 && pp-render -f top valid.pb) >/dev/null 2>&1; then
		(ulimit -v 655360 && "$@")
	else
		echo "# no memory limit: pp-render cannot run under one"
		"$@"
	fi
}

test_expect_success 'D9: many empty samples are refused, in one line' '
	limited render_fails top "^pp-render: cannot read '\''empty-samples\.gz'\'': .*(too complex|larger than)" \
		empty-samples.gz &&
	limited render_fails svg "^pp-render: cannot read '\''<stdin>'\'': .*(too complex|larger than)" \
		<empty-samples.gz
'

test_expect_success 'D9: a gzip inflating past 128 MiB is refused, in one line' '
	limited render_fails top "^pp-render: cannot read '\''zeros-140m\.gz'\'': .*larger than" \
		zeros-140m.gz &&
	limited render_fails top "^pp-render: cannot read '\''<stdin>'\'': .*larger than" \
		<zeros-140m.gz
'

# D10: location ids went into a hash map with a fixed hash, which crafted
# ids could make collide.  80,000 locations of large, scattered ids, each of
# main or leaf; 80 samples of 3 of them.
test_expect_success 'D10: 80,000 locations with large ids' '
	awk -v n=80000 "
	function varint(i,    hi, lo, k) {	# hi * 2^35 + lo, lo < 2^35
		hi = H[i]
		lo = L[i]
		for (k = 0; k < 5; k++) {
			printf \"%c\", lo % 128 + 128
			lo = int(lo / 128)
		}
		while (hi >= 128) {
			printf \"%c\", hi % 128 + 128
			hi = int(hi / 128)
		}
		printf \"%c\", hi
	}
	function vlen(i,    hi, k) {
		hi = H[i]
		for (k = 6; hi >= 128; k++)
			hi = int(hi / 128)
		return k
	}
	BEGIN {
		x = 12345
		for (i = 1; i <= n; i++) {
			x = (x * 69069 + 1) % 4294967296
			H[i] = i * 32 + x % 32		# id = i * 2^40 + ...
			L[i] = x * 8 + i % 8
		}
		# Location { id, mapping_id 1, Line { function_id 1 or 2 } }
		for (i = 1; i <= n; i++) {
			printf \"%c%c%c\", 34, vlen(i) + 7, 8
			varint(i)
			printf \"%c%c%c%c%c%c\", 16, 1, 34, 2, 8, 1 + i % 2
		}
		# Sample { location_id [i, i+1, i+2], value [1] }
		for (i = 1; i + 2 <= n; i += 1000) {
			m = vlen(i) + vlen(i + 1) + vlen(i + 2)
			printf \"%c%c%c%c\", 18, m + 5, 10, m
			varint(i); varint(i + 1); varint(i + 2)
			printf \"%c%c%c\", 18, 1, 1
		}
	}" >locs.bin &&
	test $(wc -c <locs.bin) -gt 1000000 &&
	{ pb_write $ST $MAP $FUNC $STRS && cat locs.bin; } >80k.pb &&
	gzip -c 80k.pb >80k.pb.gz &&
	renders top 80k.pb &&
	cat >expect <<-\EOF &&
	File: x
	Type: samples
	Showing nodes accounting for 80, 100% of 80 total
	      flat  flat%   sum%        cum   cum%
	        80   100%   100%         80   100%  leaf
	         0     0%   100%         80   100%  main
	EOF
	test_cmp expect out &&
	pp-render -f top 80k.pb.gz >out &&
	test_cmp expect out &&
	pp-render -f top 80k.pb 80k.pb.gz >out &&
	grep "^Showing nodes accounting for 160, 100% of 160 total" out
'

# D11: Graphviz took minutes to route an SVG's edges, many more than its
# nodes: an SVG keeps the heaviest 4 a node; the DOT keeps them all.  80
# functions, fI calling fJ for 12 Js each.
test_expect_success 'D11: make a profile of 80 functions and 900 calls' '
	awk "BEGIN {
		for (i = 0; i < 80; i++)
			for (k = 1; k <= 12; k++) {
				j = (i * 7 + k * 13) % 80
				if (j != i)
					printf \"f%d;f%d 1\n\", i, j
			}
	}" >calls.folded &&
	sed "s/ 1$//" calls.folded | sort -u >pairs &&
	test_line_count -ge 900 pairs &&
	pp-test fromfolded <calls.folded >calls.pb &&
	pp-render -f folded calls.pb | sort >actual &&
	sed "s/ 1$/ 10000000/" calls.folded | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'D11: the SVG keeps the heaviest 320 edges' '
	renders svg calls.pb &&
	grep -E ">Showing the heaviest 320 edges out of (9[0-9][0-9])<" out &&
	grep -c "<g id=\"edge[0-9]*\" class=\"edge\"" out >count &&
	echo 320 >expect &&
	test_cmp expect count
'

test_expect_success 'D11: the DOT keeps every edge' '
	renders dot calls.pb &&
	test_must_fail grep "heaviest" out &&
	grep -E "^N[0-9]+ -> N[0-9]+ " out >edges &&
	test_line_count = $(wc -l <pairs) edges &&
	pp-render -f dot -n 40 calls.pb >out &&
	grep -E "^N[0-9]+ -> N[0-9]+ " out >edges &&
	test_line_count -gt 160 edges &&
	n=$(wc -l <edges) &&
	pp-render -f svg -n 40 calls.pb >out &&
	grep ">Showing the heaviest 160 edges out of $n<" out
'

test_done
