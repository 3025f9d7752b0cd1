#!/bin/bash
# make demo (contrib/demo.sh): record the leaky program, push, query and
# draw it through a pp-recv under inetd; both SVGs come out, the call
# graph names the leak, and nothing is left behind, also when a step fails
# or the demo is interrupted.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-service.sh"

test_have_inetd || skip_all 'neither inetd nor systemd-socket-activate'
command -v cc >/dev/null 2>&1 || skip_all 'no C compiler'
command -v python3 >/dev/null 2>&1 || skip_all 'no python3 to parse the SVG'

# The demo's temporary directory goes here, so that what it leaves is seen.
TMPDIR=$TRASH_DIRECTORY/tmp
export TMPDIR
mkdir "$TMPDIR"
unset DEMO_OUT PP_RECORD PP_PUSH PP_RECV PP_QUERY PP_RENDER

demo() {
	bash "$SRC_ROOT/contrib/demo.sh" "$@"
}

# well_formed_svg FILE: FILE is XML whose root is an svg element.
well_formed_svg() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
sys.exit(0 if root.tag in ("svg", "{http://www.w3.org/2000/svg}svg") else 1)
' "$1"
}

# tidy: no file in $TMPDIR, no process running anything from it (the
# demo's inetd and the pp-recv it started name their files there).
tidy() {
	local f pid left=
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$TMPDIR/" &&
			left="$left $pid"
	done
	if [ -n "$left" ]; then
		echo "processes left:$left" >&2
		return 1
	fi
	if [ -n "$(ls -A "$TMPDIR")" ]; then
		echo "files left in $TMPDIR:" >&2
		ls -lA "$TMPDIR" >&2
		return 1
	fi
}

test_expect_success 'the demo runs' '
	mkdir out &&
	{ demo out >stdout 2>stderr; echo $? >status; } &&
	cat stderr stdout &&
	test "$(cat status)" = 0
'

test_expect_success 'report.svg is a call graph that names the leaking function' '
	test -s out/report.svg &&
	well_formed_svg out/report.svg &&
	grep ">log_request<" out/report.svg &&
	grep "inuse_space" out/report.svg
'

test_expect_success 'it prints where report.svg is, and the leak' '
	grep "^report.svg: $(cd out && pwd -P)/report.svg " stdout &&
	grep "^leak: log_request holds [0-9.]*[kMG]*B in use" stdout &&
	grep "CPU hot spot: checksum" stdout
'

test_expect_success 'flame.svg is a well-formed SVG with the hot spot' '
	test -s out/flame.svg &&
	well_formed_svg out/flame.svg &&
	grep "checksum" out/flame.svg &&
	grep "^flame.svg: $(cd out && pwd -P)/flame.svg " stdout
'

test_expect_success 'it showed each step and stopped the receiver' '
	grep "^demo: pp-recv answers at http://127.0.0.1:[0-9]*$" stderr &&
	grep "^pp-push: 2 stored" stderr &&
	grep "leaky  *heap" stderr &&
	port=$(sed -n "s|^demo: pp-recv answers at http://127.0.0.1:||p" stderr) &&
	! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
'

test_expect_success 'nothing is left: no temporary directory, no process' '
	tidy
'

test_expect_success 'a missing pp-recv is an error, said on stderr' '
	PP_RECV=$TRASH_DIRECTORY/nowhere/pp-recv test_expect_code 1 \
		demo out2 >stdout 2>stderr &&
	grep "^demo: cannot run .*nowhere/pp-recv" stderr &&
	test ! -s stdout &&
	test ! -e out2/report.svg &&
	tidy
'

test_expect_success 'a step that fails with the receiver up: error, and tidy' '
	printf "#!/bin/sh\necho \"pp-query: no way\" >&2\nexit 1\n" >bad-query &&
	chmod +x bad-query &&
	PP_QUERY=$TRASH_DIRECTORY/bad-query test_expect_code 1 \
		demo out3 >stdout 2>stderr &&
	grep "^demo: pp-recv answers at" stderr &&
	grep "^demo: pp-query failed" stderr &&
	test ! -s stdout &&
	test ! -e out3/report.svg &&
	tidy
'

test_expect_success 'a pp-render without flame graphs: report.svg, and a clear error' '
	cat >old-render <<-EOF &&
	#!/bin/sh
	case " \$* " in
	*" -f flame "*)
		echo "pp-render: unknown format: flame" >&2
		exit 2
	esac
	exec "$SRC_ROOT/pp-render" "\$@"
	EOF
	chmod +x old-render &&
	PP_RENDER=$TRASH_DIRECTORY/old-render test_expect_code 1 \
		demo out4 >stdout 2>stderr &&
	grep "^demo: pp-render -f flame failed" stderr &&
	well_formed_svg out4/report.svg &&
	test ! -e out4/flame.svg &&
	grep "^leak: log_request" stdout &&
	! grep "^flame.svg" stdout &&
	tidy
'

test_expect_success 'interrupted (SIGTERM) while pushing: tidy, status 143' '
	printf "#!/bin/sh\nkill -TERM \$PPID\nexit 0\n" >killer-push &&
	chmod +x killer-push &&
	PP_PUSH=$TRASH_DIRECTORY/killer-push test_expect_code 143 \
		demo out5 >stdout 2>stderr &&
	grep "^demo: pushing" stderr &&
	test ! -e out5/report.svg &&
	tidy
'

test_expect_success 'bad usage is status 2' '
	test_expect_code 2 demo a b 2>err &&
	grep "^usage: contrib/demo.sh" err &&
	tidy
'

test_done
