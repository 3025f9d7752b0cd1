#!/bin/sh
# fuzz/run.sh SECONDS TARGET...: runs each libFuzzer target built in
# fuzz/build/ for SECONDS, one after the other, and prints per target the
# executions run and the crashes found. Run by "make fuzz".
#
# Each target's corpus is fuzz/build/corpus/TARGET (kept between runs),
# seeded every run from fuzz/corpus/TARGET (committed), t/data, bundles
# made here from them, and the shared profiles when they are there
# ($PP_SHARED_PROFILES, else ../shared/testdata/profiles: never copied into
# the repository). Crashes, leaks, timeouts and OOMs are written to
# fuzz/artifacts/; the exit status is 1 when there is any.
set -u
root=$(cd "$(dirname "$0")/.." && pwd -P) || exit 1
cd "$root" || exit 1
seconds=${1:?usage: fuzz/run.sh SECONDS TARGET...}
shift
shared=${PP_SHARED_PROFILES:-$root/../shared/testdata/profiles}
build=fuzz/build
seeds=$build/seeds
mkdir -p fuzz/artifacts "$build/corpus" || exit 1
rm -rf "$seeds" && mkdir -p "$seeds/http" "$seeds/bundle" "$seeds/pprof" \
	"$seeds/web" || exit 1

# Profiles: t/data, the shared ones, each also gunzipped (raw protobuf).
profiles=$(ls t/data/*.pb.gz 2>/dev/null)
if [ -d "$shared" ]; then
	profiles="$profiles $(ls "$shared"/*.pb.gz)"
else
	echo "fuzz: no shared profiles at $shared; seeding without them"
fi
for f in $profiles; do
	b=$(basename "$f" .pb.gz)
	cp "$f" "$seeds/pprof/$b.pb.gz"
	gzip -dc <"$f" >"$seeds/pprof/$b.pb" 2>/dev/null ||
		rm -f "$seeds/pprof/$b.pb"
done

# Bundles as pp-push and GNU tar write them: MANIFEST first, then the
# members; plain, gzipped, xz and zstd; and single profiles.
mkbundle() { # OUT MEMBER...: a tar of the members and their MANIFEST
	out=$1
	shift
	t=$(mktemp -d "${TMPDIR:-/tmp}/pp-fuzz.XXXXXX") || return 1
	sep= i=0
	printf '{"version":1,"profiles":[' >"$t/MANIFEST"
	for m in "$@"; do
		i=$((i + 1))
		cp "$m" "$t/$i.host.$i.cpu.pb.gz"
		printf '%s{"name":"%s","sha256":"%s","size":%d,"program":"p","host":"h","pid":%d,"type":"cpu","start_ns":1764100000123000000,"duration_ns":60000000000,"labels":["env=prod","k=v"]}' \
			"$sep" "$i.host.$i.cpu.pb.gz" \
			"$(sha256sum <"$m" | cut -c1-64)" "$(wc -c <"$m")" "$i" \
			>>"$t/MANIFEST"
		sep=,
	done
	printf ']}' >>"$t/MANIFEST"
	(cd "$t" && tar --format=pax -cf - MANIFEST $(ls | grep -v MANIFEST)) \
		>"$out"
	rm -rf "$t"
}
small=$(for f in $profiles; do
	[ "$(wc -c <"$f")" -le 8192 ] && echo "$f"
done | head -n 4)
mkbundle "$seeds/bundle/one.tar" t/data/hotspot.cpu.pb.gz
# shellcheck disable=SC2086
mkbundle "$seeds/bundle/some.tar" $small
gzip -9n <"$seeds/bundle/some.tar" >"$seeds/bundle/some.tar.gz"
xz <"$seeds/bundle/one.tar" >"$seeds/bundle/one.tar.xz" 2>/dev/null ||
	rm -f "$seeds/bundle/one.tar.xz"
zstd -q <"$seeds/bundle/one.tar" >"$seeds/bundle/one.tar.zst" 2>/dev/null ||
	rm -f "$seeds/bundle/one.tar.zst"
bzip2 <"$seeds/bundle/one.tar" >"$seeds/bundle/one.tar.bz2" 2>/dev/null ||
	rm -f "$seeds/bundle/one.tar.bz2"
cp t/data/hotspot.cpu.pb.gz "$seeds/bundle/single.pb.gz"
gzip -dc <t/data/hotspot.cpu.pb.gz >"$seeds/bundle/single.pb"

# Requests: the committed ones, and pushes of a bundle and a profile.
cp fuzz/corpus/http/* "$seeds/http/"
for f in one.tar single.pb.gz; do
	printf 'POST /v1/push HTTP/1.1\r\nHost: pp\r\nAuthorization: Bearer t\r\nContent-Length: %d\r\n\r\n' \
		"$(wc -c <"$seeds/bundle/$f")" >"$seeds/http/push-$f"
	cat "$seeds/bundle/$f" >>"$seeds/http/push-$f"
done

status=0
summary=
for target in "$@"; do
	case $target in
	http | web) max_len=65536 ;;
	*) max_len=262144 ;;
	esac
	bin=$build/fuzz-$target
	corpus=$build/corpus/$target
	log=$build/$target.log
	mkdir -p "$corpus"
	[ ! -d "fuzz/corpus/$target" ] || cp -n fuzz/corpus/"$target"/* "$seeds/$target/" 2>/dev/null
	before=$(ls fuzz/artifacts | wc -l)
	echo "fuzz: $target for $seconds s (log $log)"
	"$bin" -max_total_time="$seconds" -max_len="$max_len" \
		-rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
		-artifact_prefix="fuzz/artifacts/$target-" \
		"$corpus" "$seeds/$target" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crashes=$(( $(ls fuzz/artifacts | wc -l) - before ))
	if [ "$rc" != 0 ] && [ "$crashes" = 0 ]; then
		echo "fuzz: $target exited with status $rc; see $log" >&2
		crashes=1
	fi
	[ "$crashes" = 0 ] || status=1
	line=$(printf '%-8s %12s executions %4d crashes' "$target" \
		"${execs:-?}" "$crashes")
	echo "$line"
	summary="$summary$line
"
	[ "$crashes" = 0 ] || grep -A 12 '^==[0-9]*==ERROR\|runtime error\|deadly signal' "$log" | head -n 30
done
echo "fuzz: summary"
printf '%s' "$summary"
[ "$status" = 0 ] || echo "fuzz: reproducers in fuzz/artifacts/"
exit "$status"
