#!/bin/bash
# pp-render -f flame: the flame graph's frames against the folded stacks,
# its escaping of hostile names, its merging of frames under a pixel, its
# colours, and (where chromium is installed) its script.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pb.sh"

command -v python3 >/dev/null 2>&1 || skip_all 'python3 is not installed'

# check SVG [flame-check.py options]: the flame graph is well-formed and
# its frames hang together (see t/data/flame-check.py).
check() { python3 "$TEST_DIRECTORY/data/flame-check.py" "$@"; }

# the text of the SVG's script, by the XML parser
script_of() {
	python3 -c '
import sys, xml.etree.ElementTree as E
for s in E.parse(sys.argv[1]).getroot().iter("{http://www.w3.org/2000/svg}script"):
	sys.stdout.write(s.text)' "$1"
}

test_expect_success 'a small profile: frames, widths, tooltips' '
	printf "%s\n" "main;a;hot 30" "main;cold 10" "main;a 5" "main;a;hot 5" |
	pp-test fromfolded >p.pb.gz &&
	pp-render -f flame -i samples -o p.svg p.pb.gz &&
	pp-render -f folded -i samples p.pb.gz >p.folded &&
	check p.svg --folded p.folded --names >out &&
	cat >expect <<-\EOF &&
	all
	main
	a
	hot
	cold
	frames 5 remainders 0 depth 3
	EOF
	test_cmp expect out &&
	grep "^<svg " p.svg | grep -q "data-total=\"50\" data-unit=\"count\"" &&
	grep -q "<title>hot$" p.svg &&
	grep -q "^35 (70.00%)$" p.svg &&
	grep -q "^self 5 (10.00%)$" p.svg &&
	grep -q "^in synthetic</title>" p.svg
'

test_expect_success 'values are formatted with their units' '
	pp-render -f flame -i cpu p.pb.gz >cpu.svg &&
	grep -q "^350ms (70.00%)$" cpu.svg &&
	grep -q "^500ms (100%)" cpu.svg &&
	grep -q "Type: cpu, total 500ms<" cpu.svg
'

test_expect_success 'the default sample type is pprof'"'"'s' '
	pp-render -f flame p.pb.gz >default.svg &&
	test_cmp cpu.svg default.svg
'

test_expect_success 'the document stands alone' '
	! grep -iE "(href|src) *=|@import|url *\\(|fetch|XMLHttpRequest" p.svg &&
	grep -o "[a-z]*://[^\"]*" p.svg | sort -u >urls &&
	printf "%s\n" http://www.w3.org/1999/xhtml \
		http://www.w3.org/2000/svg >expect &&
	test_cmp expect urls &&
	grep -q "xmlns=\"http://www.w3.org/2000/svg\"" p.svg &&
	grep -q "xmlns=\"http://www.w3.org/1999/xhtml\" id=\"search\"" p.svg
'

if test_have_shared; then
	for name in go-cpu pprof-sample.cpu parca-alloc_objects parca-fgprof \
	    parca-profile-with-labels pprof-cppbench-nosym.cpu \
	    pprof-go-nomappings.heap parca-node-profile; do
		test_expect_success "$name: the frames are the folded stacks" '
			f=$SHARED_PROFILES/$name.pb.gz &&
			pp-render -f flame "$f" >g.svg &&
			pp-render -f folded "$f" >g.folded &&
			check g.svg --folded g.folded
		'
	done

	test_expect_success 'another sample type and width' '
		f=$SHARED_PROFILES/go-heap.pb.gz &&
		pp-render -f flame -i alloc_space --width 400 "$f" >g.svg &&
		pp-render -f folded -i alloc_space "$f" >g.folded &&
		check g.svg --folded g.folded &&
		grep -q "^<svg .* width=\"400\" " g.svg &&
		grep -q "data-plot-w=\"380\"" g.svg
	'

	# 425,000 distinct stacks of 23,000 functions in random orders: the
	# search data of what is not drawn takes 222,000 references to names,
	# 700 kB, and the frames stay few.
	test_expect_success 'frames under a pixel are merged: a large profile stays small' '
		f=$SHARED_PROFILES/pprof-large.cpu.pb.gz &&
		pp-render -f flame "$f" >large.svg &&
		pp-render -f folded "$f" >large.folded &&
		check large.svg --folded large.folded >out &&
		grep "remainders [1-9]" out &&
		test $(wc -c <large.svg) -lt 800000 &&
		grep -c "class=\"f" large.svg >frames &&
		test $(cat frames) -lt 100 &&
		grep -q "callees too narrow to draw: " large.svg &&
		pp-render -f flame --width 100000 "$f" >wide.svg &&
		check wide.svg --folded large.folded >out &&
		test $(grep -c "class=\"f" wide.svg) -gt $(cat frames)
	'

	test_expect_success '--focus and --ignore: shares stay of the whole profile' '
		f=$SHARED_PROFILES/go-cpu.pb.gz &&
		pp-render -f flame --focus sha256 "$f" >focus.svg &&
		pp-render -f folded --focus sha256 "$f" >focus.folded &&
		check focus.svg --folded focus.folded &&
		grep -q ", focus=sha256<" focus.svg &&
		total=$(awk "{ s += \$NF } END { print s }" focus.folded) &&
		grep -q "class=\"f root\" data-x=\"0\" data-w=\"$total\"" focus.svg &&
		test "$total" -lt 1720000000 &&
		grep -q "data-total=\"1720000000\"" focus.svg
	'
else
	test_skip 'flame graphs of the shared profiles' \
		"no profiles at $SHARED_PROFILES"
fi

test_expect_success 'a profile of 20,000 narrow functions' '
	awk "BEGIN {
		print \"main;hot 20000\"
		for (i = 0; i < 20000; i++)
			printf \"main;leaf%d 1\\n\", i
		for (i = 0; i < 20; i++)
			printf \"main;hot;x%d 1\\n\", i
	}" | pp-test fromfolded >many.pb.gz &&
	pp-render -f flame -i samples many.pb.gz >many.svg &&
	pp-render -f folded -i samples many.pb.gz >many.folded &&
	check many.svg --folded many.folded >out &&
	grep "^frames 4 remainders 1 " out &&
	test $(wc -c <many.svg) -lt 200000 &&
	grep -q "^20000 callees too narrow to draw: 20000 (49.98%)<" many.svg &&
	grep -q "<title>20000 callees of main, each under 1 px$" many.svg &&
	grep -q "^20 callees too narrow to draw: 20 (0.05%)<" many.svg &&
	test_must_fail grep -q "<title>20 callees of" many.svg
'

# Hostile names: markup, CDATA ends, quotes, control characters, bytes
# that are not UTF-8 (\377, an overlong \300\200) and U+FFFE, which XML
# cannot hold, a tab, JavaScript's escapes, a name of 2000 '<'.
long=$(printf "%02000d" 0 | tr 0 "<")
evil_names() {
	printf "%s\n" \
		"<script>alert(1)</script>" \
		"]]><script>alert(2)</script><![CDATA[" \
		"</script><svg onload=alert(3)>" \
		"a&b\"c'd&amp" \
		"$(printf "ctl\\001a\\037b\\377c\\177d\\300\\200e\\357\\277\\276f")" \
		"$(printf "tab\\tname")" \
		"\${x}\`y\` \\u2028 \\\" \\\\ \\x3c/script>" \
		"$long"
}

# escaped SVG: no hostile name in SVG is markup, the style and the script
# hold the only CDATA sections, and the script is the constant one.
escaped() {
	test_must_fail grep -F "<script>alert" "$1" &&
	test_must_fail grep -F "</script><svg" "$1" &&
	test_must_fail grep -F "<svg onload" "$1" &&
	test_must_fail grep -F "<<" "$1" &&
	test_must_fail grep -aP "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]" "$1" &&
	test $(grep -c "\]\]>" "$1") = 2 &&
	test $(grep -c "<script" "$1") = 1 &&
	test $(grep -c "</script>" "$1") = 1 &&
	script_of "$1" >escaped.js &&
	script_of p.svg >p.js &&
	test_cmp p.js escaped.js
}

test_expect_success 'hostile function names are escaped' '
	evil_names | sed "s/^/main;/; s/\$/ 10/" | pp-test fromfolded >evil.pb.gz &&
	pp-render -f flame -o evil.svg evil.pb.gz &&
	check evil.svg --names >out &&
	tail -n 1 out >summary &&
	echo "frames 10 remainders 0 depth 2" >expect &&
	test_cmp expect summary &&
	sed "\$d" out | LC_ALL=C sort >actual &&
	{
		evil_names | sed "5s/.*/ctl?a?b?c?d??e???f/" &&
		echo all && echo main
	} | LC_ALL=C sort >expect &&
	test_cmp expect actual &&
	escaped evil.svg
'

test_expect_success 'a hostile mapping file and unit are escaped' '
	ST=$(pb_len 1 $(pb_int 1 1) $(pb_int 2 2)) &&
	MAPS="$(pb_len 3 $(pb_int 1 1) $(pb_int 2 4096) $(pb_int 3 8192) \
		$(pb_int 5 5)) $(pb_len 3 $(pb_int 1 2) $(pb_int 2 65536) \
		$(pb_int 3 131072) $(pb_int 5 7))" &&
	LOCS="$(pb_len 4 $(pb_int 1 1) $(pb_int 2 1) $(pb_int 3 4097) \
		$(pb_len 4 $(pb_int 1 1) $(pb_int 2 10))) \
		$(pb_len 4 $(pb_int 1 2) $(pb_int 2 2) $(pb_int 3 65537) \
		$(pb_len 4 $(pb_int 1 2) $(pb_int 2 20))) \
		$(pb_len 4 $(pb_int 1 3) $(pb_int 2 2) $(pb_int 3 65538))" &&
	FUNCS="$(pb_len 5 $(pb_int 1 1) $(pb_int 2 3) $(pb_int 4 4)) \
		$(pb_len 5 $(pb_int 1 2) $(pb_int 2 6) $(pb_int 4 4))" &&
	SAMPLES="$(pb_len 2 $(pb_len 1 02 01) $(pb_len 2 05)) \
		$(pb_len 2 $(pb_len 1 03 01) $(pb_len 2 03))" &&
	pb_write $ST $SAMPLES $MAPS $LOCS $FUNCS $(pb_str ""; pb_str samples;
		pb_str "c</script>]]>&\"u"; pb_str main; pb_str main.c;
		pb_str "/bin/e<v>il&\"]]><script>"; pb_str "<b>f</b>";
		pb_str "/lib/l<i>b&\"]]>.so.6") >maps.pb &&
	pp-render -f flame -o maps.svg maps.pb &&
	check maps.svg --names >out &&
	pp-render -f flame p.pb.gz | sed -n "/^<script/,/^]]>/p" >p.js &&
	cat >expect <<-\EOF &&
	all
	main
	<b>f</b>
	[l<i>b&"]]>.so.6]
	frames 4 remainders 0 depth 2
	EOF
	test_cmp expect out &&
	grep -F "data-unit=\"c&lt;/script&gt;]]&gt;&amp;&quot;u\"" maps.svg &&
	grep -F ">File: e&lt;v&gt;il&amp;&quot;]]&gt;&lt;script&gt;, " maps.svg &&
	grep -F "in l&lt;i&gt;b&amp;&quot;]]&gt;.so.6</title>" maps.svg &&
	test $(grep -c "\\]\\]>" maps.svg) = 2 &&
	test_must_fail grep -F "</b>" maps.svg &&
	sed -n "/^<script/,/^]]>/p" maps.svg >maps.js &&
	test_cmp p.js maps.js
'

# The fill of the frame named $2 in $1, as "R G B".
fill_of() {
	python3 -c '
import sys, xml.etree.ElementTree as E
N = "{http://www.w3.org/2000/svg}"
for g in E.parse(sys.argv[1]).getroot().iter(N + "g"):
	t = g.find(N + "title")
	if t is not None and t.text.split("\n")[0] == sys.argv[2]:
		f = g.find(N + "rect").get("fill")
		print(int(f[1:3], 16), int(f[3:5], 16), int(f[5:7], 16))
		break' "$1" "$2"
}

test_expect_success 'colours by library: warm for the main program, a hue per file' '
	fill_of maps.svg main >main.rgb &&
	read r g b <main.rgb && test $r -ge 200 && test $b -le 60 &&
	fill_of maps.svg "<b>f</b>" >lib.rgb &&
	fill_of maps.svg "[l<i>b&\"]]>.so.6]" >lib2.rgb &&
	read r g b <lib.rgb && ! { test $r -ge 200 && test $b -le 60; } &&
	read r2 g2 b2 <lib2.rgb &&
	python3 -c "
import colorsys, sys
a = [int(x) / 255 for x in sys.argv[1:4]]
b = [int(x) / 255 for x in sys.argv[4:7]]
ha = colorsys.rgb_to_hls(*a)[0]
hb = colorsys.rgb_to_hls(*b)[0]
sys.exit(abs(ha - hb) > 0.03 or colorsys.rgb_to_hls(*a)[2] < 0.4)
" $r $g $b $r2 $g2 $b2 &&
	pp-render -f flame --colors lib maps.pb >lib.svg &&
	test_cmp maps.svg lib.svg
'

test_expect_success '--colors heat: the hotter the self value, the redder' '
	pp-render -f flame --colors heat -i samples -o heat.svg p.pb.gz &&
	check heat.svg --folded p.folded &&
	fill_of heat.svg hot >hot.rgb && fill_of heat.svg a >a.rgb &&
	fill_of heat.svg main >main.rgb &&
	read hr hg hb <hot.rgb && read ar ag ab <a.rgb && read mr mg mb <main.rgb &&
	test $hg -lt $ag && test $ag -lt $mg
'

# deep N: a profile of one sample, "recurse" calling itself N times.
cat >deep.py <<\EOF
import gzip, sys
def varint(v):
    out = bytearray()
    while True:
        out.append(v & 0x7f | (0x80 if v >> 7 else 0))
        v >>= 7
        if not v:
            return bytes(out)
def field(n, payload):
    if isinstance(payload, int):
        return varint(n << 3) + varint(payload)
    return varint(n << 3 | 2) + varint(len(payload)) + payload
st = field(1, field(1, 1) + field(2, 2))
sample = field(2, field(1, b"\x01" * int(sys.argv[1])) + field(2, varint(7)))
mapping = field(3, field(1, 1) + field(5, 4))
loc = field(4, field(1, 1) + field(2, 1) + field(4, field(1, 1)))
func = field(5, field(1, 1) + field(2, 3))
strs = b"".join(field(6, s) for s in
    [b"", b"samples", b"count", b"recurse", b"/bin/deep"])
sys.stdout.buffer.write(gzip.compress(st + sample + mapping + loc + func + strs))
EOF
deep() { python3 deep.py "$1"; }

test_expect_success 'recursion 5000 calls deep' '
	deep 5000 >deep.pb.gz &&
	pp-render -f flame deep.pb.gz >deep.svg &&
	pp-render -f folded deep.pb.gz >deep.folded &&
	check deep.svg --folded deep.folded >out &&
	echo "frames 5001 remainders 0 depth 5000" >expect &&
	test_cmp expect out
'

test_expect_success 'more than 524288 frames to draw are refused, in one line' '
	deep 600000 >deeper.pb.gz &&
	test $(wc -c <deeper.pb.gz) -lt 5000 &&
	render_fails flame "^pp-render: cannot draw the flame graph: more than 524288 frames to draw$" \
		deeper.pb.gz
'

test_expect_success 'bad options and input' '
	test_expect_code 2 pp-render -f flame --colors rainbow p.pb.gz 2>err &&
	grep "unknown colour scheme .rainbow." err &&
	test_expect_code 2 pp-render -f flame --width 99 p.pb.gz 2>err &&
	grep -- "--width wants pixels" err &&
	test_expect_code 2 pp-render -f flame --width 12x p.pb.gz 2>err &&
	printf "garbage" >bad.pb &&
	test_expect_code 1 pp-render -f flame bad.pb >out 2>err &&
	test ! -s out && test_line_count = 1 err &&
	test_expect_code 1 pp-render -f flame -i nosuchtype p.pb.gz >out 2>err &&
	test ! -s out
'

test_expect_success 'an empty profile' '
	printf "" | pp-test fromfolded >empty.pb.gz &&
	pp-render -f flame empty.pb.gz >empty.svg &&
	check empty.svg >out &&
	echo "frames 0 remainders 0 depth 0" >expect &&
	test_cmp expect out &&
	grep -q ">No samples<" empty.svg
'

# The search data of the frames too narrow to draw (see flame.h), read as
# the script reads it. search.py SVG FOLDED RE...: for each regular
# expression, the value of the samples whose stacks hold a match by the
# flame graph's frames and search data, and by the folded stacks, on a
# line "RE VALUE FOLDED-VALUE"; exits 1 if they differ. With no RE, prints
# the names of the search data.
cat >search.py <<\EOF
import re, sys
import xml.etree.ElementTree as E
N = "{http://www.w3.org/2000/svg}"
MORE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ+-./:="
LAST = "0123456789abcdefghijklmnopqrstuv"
def nums(s):
	v = 0
	for c in s:
		if c in LAST:
			yield v * 32 + LAST.index(c)
			v = 0
		else:
			v = v * 32 + MORE.index(c)
root = E.parse(sys.argv[1]).getroot()
fr = []
for g in [g for g in root.iter(N + "g") if g.get("id") == "frames"][0]:
	fr.append((int(g.get("data-w")), int(g.get("data-e")),
	    g.find(N + "title").text.split("\n")[0], g.get("class").split(),
	    list(nums(g.get("data-n") or ""))))
meta = [m for m in root.iter(N + "metadata") if m.get("id") == "narrow"]
q = int(meta[0].get("data-q")) if meta else 1
names, prev, first = [], "", 0
for line in meta[0].text.split("\n") if meta else []:
	if " " not in line:
		continue
	post, rest = line.split(" ", 1)
	d = list(nums(post))
	first += d[0] // 2 if d[0] % 2 == 0 else -(d[0] + 1) // 2
	nodes = [first]
	for x in d[1:]:
		nodes.append(nodes[-1] + x + 1)
	k = 0
	while rest[k] in MORE:
		k += 1
	# the prefix is counted in UTF-16 code units, as JavaScript does
	units = next(nums(rest[:k + 1]))
	prev = prev.encode("utf-16-le")[:2 * units].decode("utf-16-le") + \
	    rest[k + 1:]
	names.append((prev, nodes))
if len(sys.argv) == 3:
	for name, nodes in names:
		print(name)
	sys.exit(0)
stacks = []
for line in open(sys.argv[2], encoding="utf-8", errors="surrogateescape"):
	st, _, v = line.rstrip("\n").rpartition(" ")
	stacks.append((st.split(";"), int(v)))
bad = False
for term in sys.argv[3:]:
	m = re.compile(term).search
	hit = set()
	for name, nodes in names:
		if m(name):
			hit.update(nodes)
	got, until, base = 0, -1, 0
	for j, (w, e, name, cls, data) in enumerate(fr):
		if "root" not in cls and "r" not in cls and m(name) and j > until:
			got += w
			until = e
		k = 0
		while j > until and k < len(data) // 2:
			if base + k in hit:
				got += data[2 * k] * q
				k += data[2 * k + 1]
			k += 1
		base += len(data) // 2
	want = sum(v for st, v in stacks if any(m(f) for f in st))
	print(term, got, want)
	bad = bad or got != want
sys.exit(1 if bad else 0)
EOF
search_check() { python3 search.py "$@"; }

# A hot function called from 300 call sites, each under a pixel, itself,
# through another function, and calling another hot one; and from under a
# drawn frame whose name matches too.
test_expect_success 'search data: a function only in frames under a pixel' '
	awk "BEGIN {
		print \"main;other 10000\"
		for (i = 0; i < 300; i++) {
			printf \"main;c%d;hot 5\\n\", i
			printf \"main;c%d;hot;hotter 2\\n\", i
			printf \"main;c%d;hot;x;hot 1\\n\", i
		}
		for (i = 0; i < 100; i++)
			printf \"main;hotel;c%d;hot 1\\n\", i
	}" | pp-test fromfolded >hot.pb.gz &&
	pp-render -f flame -o hot.svg hot.pb.gz &&
	pp-render -f folded hot.pb.gz >hot.folded &&
	check hot.svg --folded hot.folded --names >out &&
	grep "^frames 6 remainders 2 " out &&
	test_must_fail grep -e "^hot\$" -e "^hotter\$" out &&
	awk "\$1 ~ /(^|;)hot(;|\$)/ { s += \$2 } { t += \$2 }
		END { printf \"%.0f %.2f%%\\n\", s, s * 100 / t }" \
		hot.folded >share &&
	echo "25000000000 20.00%" >expect &&
	test_cmp expect share &&
	search_check hot.svg hot.folded "^hot\$" hot hotter "^x\$|hotter" \
		"^c1" "^(main|other)\$" "^all\$" ZZZ >out &&
	cat >expect <<-\EOF &&
	^hot$ 25000000000 25000000000
	hot 25000000000 25000000000
	hotter 6000000000 6000000000
	^x$|hotter 9000000000 9000000000
	^c1 8990000000 8990000000
	^(main|other)$ 125000000000 125000000000
	^all$ 0 0
	ZZZ 0 0
	EOF
	test_cmp expect out
'

test_expect_success 'search data: a narrower graph, and the shared profiles' '
	pp-render -f flame --width 100 -o hot100.svg hot.pb.gz &&
	search_check hot100.svg hot.folded "^hot\$" hot "^x\$|hotter" other &&
	if test_have_shared; then
		for name in pprof-large.cpu parca-alloc_objects parca-fgprof \
		    go-cpu; do
			f=$SHARED_PROFILES/$name.pb.gz &&
			pp-render -f flame --width 300 "$f" >s.svg &&
			pp-render -f folded "$f" >s.folded &&
			search_check s.svg s.folded runtime "^main\\." \
				"func1[0-9]\$|func2[0-9]*3" "sync|sort" "e.*e" \
				"[.]next\$" >out || return 1
		done
	fi
'

# Every frame of a chain 1000 calls long, each with self value, is under
# a pixel: one set of names per sample would hold 500,000 names.
test_expect_success 'search data: a long chain under a pixel stays small' '
	awk "BEGIN {
		print \"main;big 10000000\"
		s = \"main\"
		for (i = 0; i < 1000; i++) {
			s = s \";n\" i
			print s, 1
		}
	}" | pp-test fromfolded >chain.pb.gz &&
	pp-render -f flame -i samples chain.pb.gz >chain.svg &&
	pp-render -f folded -i samples chain.pb.gz >chain.folded &&
	check chain.svg --folded chain.folded &&
	test $(wc -c <chain.svg) -lt 30000 &&
	search_check chain.svg chain.folded "^n5" "n99[0-9]" "^n(1|10|100)\$"
'

test_expect_success 'search data: hostile and astral names under a pixel' '
	{
		evil_names &&
		printf "%s\n" "𝒻𝒻a" "𝒻𝒻b" "𝒻x" "é𝒻" "éé"
	} >narrow.names &&
	{
		echo "main;big 100000" &&
		sed "s/^/main;/; s/\$/ 1/" narrow.names
	} | pp-test fromfolded >narrow.pb.gz &&
	pp-render -f flame -o narrow.svg narrow.pb.gz &&
	pp-render -f folded narrow.pb.gz >narrow.folded &&
	check narrow.svg --folded narrow.folded >out &&
	echo "frames 3 remainders 0 depth 2" >expect &&
	test_cmp expect out &&
	search_check narrow.svg narrow.folded | LC_ALL=C sort >actual &&
	sed "5s/.*/ctl?a?b?c?d??e???f/" narrow.names | LC_ALL=C sort >expect &&
	test_cmp expect actual &&
	search_check narrow.svg narrow.folded "alert" "𝒻𝒻" "^é" "𝒻" \
		"\\\\u2028" &&
	escaped narrow.svg
'

# The script, in a browser: a probe appended to a copy of the flame graph
# clicks a frame, searches, clicks the root, and writes what it saw into
# an attribute of the document, which chromium --dump-dom prints.
if command -v chromium >/dev/null 2>&1; then
	have_chromium=1
else
	have_chromium=
fi

cat >probe.js <<\EOF
(function () {
var F = document.getElementById("frames").children, out = {}, i, z = -1;
function state() {
	var s = [];
	for (var j = 0; j < F.length; j++) {
		var r = F[j].getElementsByTagName("rect")[0];
		s.push([F[j].classList.contains("hide") ? 0 : 1,
		    +r.getAttribute("x"), +r.getAttribute("width"),
		    F[j].classList.contains("match") ? 1 : 0,
		    F[j].classList.contains("part") ? 1 : 0]);
	}
	return s;
}
out.before = state();
for (i = 0; i < F.length; i++)
	if (F[i].getElementsByTagName("title")[0].textContent.split("\n")[0] ===
	    document.documentElement.getAttribute("data-probe-zoom")) {
		z = i;
		break;
	}
out.index = z;
F[z].getElementsByTagName("rect")[0].dispatchEvent(new MouseEvent("click",
    { bubbles: true }));
out.zoomed = state();
var input = document.getElementById("search");
input.value = document.documentElement.getAttribute("data-probe-search");
input.dispatchEvent(new Event("input"));
out.matched = document.getElementById("matched").textContent;
out.search = state();
F[0].dispatchEvent(new MouseEvent("click", { bubbles: true }));
out.reset = state();
document.documentElement.setAttribute("data-probe", JSON.stringify(out));
})();
EOF

cat >probe.py <<\EOF
import html, json, re, sys
import xml.etree.ElementTree as E
from decimal import Decimal, ROUND_HALF_UP
N = "{http://www.w3.org/2000/svg}"
svg, dom, folded, zoom, term = sys.argv[1:6]
root = E.parse(svg).getroot()
X0, W = float(root.get("data-plot-x")), float(root.get("data-plot-w"))
total = float(root.get("data-total"))
fr = []
for g in [g for g in root.iter(N + "g") if g.get("id") == "frames"][0]:
	fr.append((int(g.get("data-x")), int(g.get("data-w")),
	    int(g.get("data-e")), g.find(N + "title").text.split("\n")[0],
	    g.get("class").split()))
stacks, prefix = [], {}
for line in open(folded, encoding="utf-8", errors="surrogateescape"):
	st, _, v = line.rstrip("\n").rpartition(" ")
	st = tuple(st.split(";"))
	stacks.append((st, int(v)))
	for k in range(1, len(st) + 1):
		prefix[st[:k]] = prefix.get(st[:k], 0) + int(v)
m = re.search(r'data-probe="([^"]*)"', open(dom).read())
out = json.loads(html.unescape(m.group(1)))
i = out["index"]
bad = []
try:
	match = re.compile(term).search
except re.error:
	match = lambda name: term in name
assert fr[i][3] == zoom, (i, fr[i][3])
zx, zw, ze = fr[i][0], fr[i][1], fr[i][2]
for j, (x, w, e, name, cls) in enumerate(fr):
	shown, rx, rw = out["zoomed"][j][:3]
	if i <= j <= ze:
		want = (1, X0 + (x - zx) / zw * W, w / zw * W)
	elif j < i <= e:
		want = (1, X0, W)
	else:
		want = (0, None, None)
	if shown != want[0] or (shown and (abs(rx - want[1]) > 0.01 or
	    abs(rw - want[2]) > 0.01)):
		bad.append("zoomed: frame %d %s: %s, want %s" %
		    (j, name, out["zoomed"][j], want))
	if out["reset"][j][:3] != out["before"][j][:3] or not out["reset"][j][0]:
		bad.append("reset: frame %d %s: %s, was %s" %
		    (j, name, out["reset"][j], out["before"][j]))
# the search: the frames that match, and the remainders holding a match
# that no frame below them holds; the share, of the whole profile however
# zoomed, of the samples whose stacks hold a match
drawn, until, n, path, stack = 0, -1, 0, [], []
for j, (x, w, e, name, cls) in enumerate(fr):
	while stack and fr[stack[-1]][2] < j:
		stack.pop()
	path.append(path[stack[-1]] + (name,) if stack else ())
	hit = "root" not in cls and "r" not in cls and bool(match(name))
	part = False
	if "r" in cls and j > until:
		d = path[stack[-1]]
		part = any(st[:len(d)] == d and len(st) > len(d) and
		    prefix[st[:len(d) + 1]] * W < fr[0][1] and
		    any(match(f) for f in st) for st, v in stacks)
	if "r" not in cls:
		stack.append(j)
	if [hit, part] != [bool(b) for b in out["search"][j][3:5]]:
		bad.append("search: frame %d %s: %s" % (j, name, out["search"][j]))
	if hit:
		n += 1
		if j > until:
			drawn, until = drawn + w, e
# pct() of the script: toFixed and toPrecision round half up
def pct(v):
	r = Decimal(abs(v / total) * 100)
	if Decimal("99.95") <= r <= Decimal("100.05"):
		return "100%"
	if r >= 1:
		return "%s%%" % r.quantize(Decimal("0.01"), ROUND_HALF_UP)
	if r == 0:
		return "0%"
	r = r.quantize(Decimal(1).scaleb(r.adjusted() - 1), ROUND_HALF_UP)
	return "%s%%" % format(r.normalize(), "f")
s = sum(v for st, v in stacks if any(match(f) for f in st))
head = "Matched: %s (" % pct(s)
tail = ", %d frame%s" % (n, "" if n == 1 else "s")
if s > drawn:
	tail += " + %s too narrow to draw" % pct(s - drawn)
if not out["matched"].startswith(head) or \
    not out["matched"].endswith(tail + ")"):
	bad.append("matched %r, want %r ... %r" % (out["matched"], head, tail))
print("\n".join(bad[:20]) or "ok %d frames, zoomed %d, %s" %
    (len(fr), i, out["matched"]))
sys.exit(1 if bad else 0)
EOF

# in_chromium SVG FOLDED ZOOM SEARCH: runs the probe on a copy of SVG,
# zooming into the first frame named ZOOM and searching for SEARCH (a
# regular expression that Python and JavaScript read alike, or text that is
# not one); FOLDED are the profile's folded stacks.
in_chromium() {
	python3 - "$1" "$3" "$4" >probe.svg <<-\EOF &&
	import sys
	from xml.sax.saxutils import quoteattr
	svg, zoom, term = sys.argv[1:4]
	text = open(svg, encoding="utf-8").read()
	text = text.replace("<svg ", "<svg data-probe-zoom=%s data-probe-search=%s "
	    % (quoteattr(zoom), quoteattr(term)), 1)
	probe = "<script><![CDATA[\n" + open("probe.js").read() + "]]></script>\n"
	i = text.rindex("</svg>")
	sys.stdout.write(text[:i] + probe + text[i:])
	EOF
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$PWD/chromium" --dump-dom \
		"file://$PWD/probe.svg" >dom 2>chromium.err &&
	python3 probe.py "$1" dom "$2" "$3" "$4"
}

# the text of the search's total in the last probe, and the number of the
# frames the search tinted
matched() {
	python3 -c '
import html, json, re
m = re.search(r"data-probe=\"([^\"]*)\"", open("dom").read())
out = json.loads(html.unescape(m.group(1)))
print(out["matched"], sum(f[4] for f in out["search"]))'
}

if test -n "$have_chromium" && test_have_shared; then
	test_expect_success 'in chromium: zoom, search, reset' '
		f=$SHARED_PROFILES/go-cpu.pb.gz &&
		pp-render -f flame "$f" >g.svg &&
		pp-render -f folded "$f" >g.folded &&
		in_chromium g.svg g.folded main.hashLoop sha256 &&
		in_chromium g.svg g.folded runtime.main \
			"sort\\.[A-Z]|^runtime\\.m" &&
		in_chromium g.svg g.folded crypto/sha256.block "block("
	'

	test_expect_success 'in chromium: a large profile, mostly under a pixel' '
		in_chromium large.svg large.folded main.next \
			"func1[0-9]\$|func2[0-9]*3" &&
		in_chromium large.svg large.folded main.main "func12073\$" &&
		matched >out &&
		echo "Matched: 0.079% (190ms, 0 frames + 0.079% too narrow to draw) 1" >expect &&
		test_cmp expect out
	'
elif test -n "$have_chromium"; then
	test_skip 'the script in chromium, on shared profiles' \
		"no profiles at $SHARED_PROFILES"
fi

if test -n "$have_chromium"; then
	test_expect_success 'in chromium: a nested match counts once' '
		printf "%s\n" "main;foo;foo;x 30" "main;foo 10" "main;bar;foo 5" \
			"main;y 55" | pp-test fromfolded >nest.pb.gz &&
		pp-render -f flame nest.pb.gz >nest.svg &&
		pp-render -f folded nest.pb.gz >nest.folded &&
		in_chromium nest.svg nest.folded bar foo >out &&
		cat out &&
		grep "^ok " out &&
		grep -q "data-probe=\"[^\"]*Matched: 45.00% (450ms, 3 frames)" dom
	'

	test_expect_success 'in chromium: matches under a pixel count, once, however zoomed' '
		in_chromium hot.svg hot.folded main "^hot\$" &&
		matched >out &&
		in_chromium hot.svg hot.folded hotel hot &&
		matched >>out &&
		in_chromium hot.svg hot.folded other hotter &&
		matched >>out &&
		in_chromium hot.svg hot.folded all "^x\$|hotter" &&
		matched >>out &&
		cat >expect <<-\EOF &&
		Matched: 20.00% (25s, 0 frames + 20.00% too narrow to draw) 2
		Matched: 20.00% (25s, 1 frame + 19.20% too narrow to draw) 1
		Matched: 4.80% (6s, 0 frames + 4.80% too narrow to draw) 1
		Matched: 7.20% (9s, 0 frames + 7.20% too narrow to draw) 1
		EOF
		test_cmp expect out
	'

	test_expect_success 'in chromium: hostile and astral names under a pixel' '
		in_chromium narrow.svg narrow.folded main alert &&
		in_chromium narrow.svg narrow.folded main "𝒻𝒻" &&
		matched >out &&
		echo "Matched: 0.002% (20ms, 0 frames + 0.002% too narrow to draw) 0" >expect &&
		test_cmp expect out
	'
else
	test_skip 'the script in chromium' 'no chromium'
fi

test_done
