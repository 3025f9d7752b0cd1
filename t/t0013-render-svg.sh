#!/bin/bash
# pp-render -f svg: the DOT graph laid out by libgvc in process.
. "$(dirname "$0")/lib.sh"

# The nodes and edges of a DOT graph and of its SVG, counted.
dot_nodes() { grep -c '^N[N0-9_]* \[label' "$1"; }
dot_edges() { grep -c '^N[N0-9_]* -> N' "$1"; }
svg_nodes() { grep -c 'class="node"' "$1"; }
svg_edges() { grep -c 'class="edge"' "$1"; }
well_formed() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$1"
	else
		head -n 1 "$1" | grep -q '^<?xml' && tail -n 1 "$1" | grep -q '^</svg>'
	fi
}

if test_have_shared; then
	for name in go-cpu pprof-large.cpu parca-alloc_objects \
	    parca-profile-with-labels; do
		test_expect_success "svg of $name draws every node and edge" '
			f=$SHARED_PROFILES/$name.pb.gz &&
			pp-render -f dot "$f" >g.dot &&
			pp-render "$f" >g.svg &&
			well_formed g.svg &&
			grep -q "<svg" g.svg &&
			test $(svg_nodes g.svg) -eq $(($(dot_nodes g.dot) + 1)) &&
			test $(svg_edges g.svg) -eq $(dot_edges g.dot)
		'
	done

	test_expect_success 'the legend and residual edges are drawn' '
		pp-render -f svg -n 8 "$SHARED_PROFILES/parca-fib.pb.gz" >g.svg &&
		grep "Showing top 8 nodes out of" g.svg &&
		grep -q "Dropped [0-9]* nodes" g.svg &&
		test $(grep -c "stroke-dasharray=\"1,5\"" g.svg) -eq 5
	'
else
	test_skip 'svg of the shared profiles' "no profiles at $SHARED_PROFILES"
fi

test_expect_success 'names from the profile are escaped in the SVG' '
	printf "%s\n" "main;<script>alert(1)</script> 30" "main;a&b\"c 10" |
	pp-test fromfolded >evil.pb.gz &&
	pp-render -o evil.svg evil.pb.gz &&
	well_formed evil.svg &&
	! grep -q "<script" evil.svg &&
	grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" evil.svg &&
	grep -q "a&amp;b&quot;c" evil.svg
'

test_expect_success 'an empty profile still renders its legend' '
	printf "" | pp-test fromfolded >empty.pb.gz &&
	pp-render empty.pb.gz >empty.svg &&
	well_formed empty.svg &&
	grep -q "Showing nodes accounting for 0" empty.svg
'

test_done
