#!/bin/bash
# pp-render -f folded against the stacks of go tool pprof -traces.
. "$(dirname "$0")/lib.sh"

test_have_shared || skip_all "no shared test profiles at $SHARED_PROFILES"

# pprof's -traces output to folded stacks: values back in the profile's own
# unit (ns for CPU), frames root first, "(inline)" marks dropped, equal
# stacks summed, zero stacks left out.
traces_to_folded() {
	awk '
	function flush() {
		if (n > 0 && value != 0) {
			s = frames[n]
			for (i = n - 1; i >= 1; i--)
				s = s ";" frames[i]
			sum[s] += value
		}
		n = 0
	}
	function parse(v,    num, unit) {
		num = v; sub(/[a-zA-Z]+$/, "", num)
		unit = v; sub(/^[-0-9.]+/, "", unit)
		if (unit == "s") return num * 1e9
		if (unit == "ms") return num * 1e6
		if (unit == "us") return num * 1e3
		if (unit == "ns" || unit == "") return num + 0
		print "unknown unit " unit > "/dev/stderr"; exit 1
	}
	/^-----------\+/ { flush(); inblock = 1; next }
	!inblock { next }
	/^             / {
		f = substr($0, 14); sub(/ \(inline\)$/, "", f)
		frames[++n] = f; next
	}
	substr($0, 11, 3) == "   " {
		v = substr($0, 1, 10); gsub(/ /, "", v); value = parse(v)
		f = substr($0, 14); sub(/ \(inline\)$/, "", f)
		frames[++n] = f; next
	}
	END {
		flush()
		for (s in sum) printf "%s %.0f\n", s, sum[s]
	}' "$1" | sort
}

for name in pprof-sample.cpu go-cpu parca-node-profile go-goroutine \
    parca-fib; do
	test_expect_success "folded stacks of $name are pprof's traces" '
		traces_to_folded "$SHARED_PROFILES/expected/$name.traces" >expect &&
		test -s expect &&
		pp-render -f folded "$SHARED_PROFILES/$name.pb.gz" >actual &&
		test_cmp expect actual
	'
done

test_expect_success 'folded stacks of a synthetic profile' '
	printf "main;a;hot 30\nmain;cold 10\nmain;a;hot 5\nmain;x;y 0\n" |
	pp-test fromfolded >p.pb.gz &&
	pp-render -f folded -i samples p.pb.gz >actual &&
	printf "main;a;hot 35\nmain;cold 10\n" | sort >expect &&
	test_cmp expect actual
'

test_done
