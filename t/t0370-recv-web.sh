#!/bin/bash
# pp-recv's web pages (lib/web.h) under a real openbsd-inetd on loopback:
# the HTML listing of the caller's own profiles, its filters (labels as
# pp-query -L takes them) and paging, its count (bounded: "more than
# 10000", with the right rows all the same), the call graphs, flame graphs,
# merged views and pprof downloads it links to, hostile names and
# parameters that must only ever appear escaped, the security
# headers; pp-render as a child (its descriptors, its deadline) with
# requests piped into pp-recv; and a real browser: headless Chromium driven
# through chromedriver's W3C WebDriver API logs in, opens a flame graph,
# clicks a frame, checks that it zoomed, and takes a screenshot.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pb.sh"
. "$TEST_DIRECTORY/lib-service.sh"

test_have_inetd || skip_all 'neither inetd nor systemd-socket-activate'

HOME=$TRASH_DIRECTORY/home
export HOME
unset PP_URL PP_RENDER XDG_CONFIG_HOME
mkdir -p "$HOME"

# mkprof FILE PROGRAM HOST START LABELS KIND STACK=VALUE...: a profile
# with pp's metadata (program, host, labels: none, one, or several
# separated by '|'), started at START (Unix seconds), 10 s long, of KIND
# cpu or heap, with one sample per "root;...;leaf=VALUE" (a function name
# is any bytes but NUL, ';', '=').
mkprof() {
	local file=$1 prog=$2 host=$3 start=$4 label=$5 kind=$6
	shift 6
	local -A fid=()
	local -a strs names labels
	local funcs= locs= samples= comments= st s stack v n i id ids
	if [ "$kind" = heap ]; then
		strs=("" inuse_objects count inuse_space bytes)
	else
		strs=("" samples count cpu nanoseconds)
	fi
	strs+=(/bin/x "#pp program=$prog" "#pp host=$host")
	comments="$(pb_int 13 6) $(pb_int 13 7)"
	IFS='|' read -ra labels <<<"$label"
	for s in "${labels[@]}"; do
		strs+=("#pp label=$s")
		comments="$comments $(pb_int 13 $((${#strs[@]} - 1)))"
	done
	for s in "$@"; do
		v=${s##*=} stack=${s%=*}
		IFS=';' read -ra names <<<"$stack"
		ids=
		for ((i = ${#names[@]} - 1; i >= 0; i--)); do
			n=${names[i]}
			id=${fid["$n"]:-}
			if [ -z "$id" ]; then
				id=$((${#fid[@]} + 1))
				fid["$n"]=$id
				strs+=("$n")
				funcs="$funcs $(pb_len 5 $(pb_int 1 $id) \
					$(pb_int 2 $((${#strs[@]} - 1))) \
					$(pb_int 3 $((${#strs[@]} - 1))) $(pb_int 4 5))"
				locs="$locs $(pb_len 4 $(pb_int 1 $id) $(pb_int 2 1) \
					$(pb_int 3 $((4096 + id))) \
					$(pb_len 4 $(pb_int 1 $id) $(pb_int 2 1)))"
			fi
			ids="$ids $(pb_varint $id)"
		done
		samples="$samples $(pb_len 2 $(pb_len 1 $ids) \
			$(pb_len 2 $(pb_varint $v) $(pb_varint $((v * 10000000)))))"
	done
	st=
	for s in "${strs[@]}"; do
		st="$st $(pb_str "$s")"
	done
	pb_write $(pb_len 1 $(pb_int 1 1) $(pb_int 2 2)) \
		$(pb_len 1 $(pb_int 1 3) $(pb_int 2 4)) $samples \
		$(pb_len 3 $(pb_int 1 1) $(pb_int 2 4096) $(pb_int 3 1048576) \
		$(pb_int 5 5)) $locs $funcs $st \
		$(pb_int 9 $((start * 1000000000))) $(pb_int 10 10000000000) \
		$(pb_len 11 $(pb_int 1 3) $(pb_int 2 4)) $(pb_int 12 10000000) \
		$comments >"$file"
}

# web USER PATH [CURL-ARG...]: GET PATH from the receiver with USER's token
# as the password of HTTP basic auth, as a browser sends it (USER "-": no
# token); the status goes to code, the headers to headers, the body to
# body.
web() {
	local user=$1 path=$2
	shift 2
	if [ "$user" != - ]; then
		set -- -u "$user:$(cat "$TRASH_DIRECTORY/$user.token")" "$@"
	fi
	curl -s -g --max-time 60 -D headers -o body -w '%{http_code}' "$@" \
		"$PP_URL$path" >code &&
	tr -d '\r' <headers >headers.txt
}

# header NAME: the value of header NAME in the last answer.
header() {
	sed -n "s/^$1: //Ip" headers.txt
}

# hrefs: the links of the page in body, as a browser reads them.
hrefs() {
	grep -o 'href="[^"]*"' body | sed 's/^href="//; s/"$//; s/&amp;/\&/g'
}

# rows: the ids of the page's table rows, in order.
rows() {
	grep -o '<tr id="p[0-9a-f]*"' body | sed 's/.*"p//; s/"$//'
}

# stored NAME: the id of the profile whose push answer is NAME.push.
stored() {
	sed 's/.*"id":"\([0-9a-f]*\)".*/\1/' "$TRASH_DIRECTORY/$1.push"
}

# push USER NAME: stores NAME.pb through the push route, as USER.
push() {
	curl -s --max-time 60 -H "Authorization: Bearer $(cat "$1.token")" \
		--data-binary @"$2.pb" -o "$2.push" -w '%{http_code}' \
		"$PP_URL/v1/push" >code &&
	test "$(cat code)" = 200 &&
	test -n "$(stored "$2")"
}

HOSTILE_PROG='<script>alert(1)</script>"'\''&x'
HOSTILE_HOST='h"><img src=x onerror=alert(2)>'
HOSTILE_LABEL='k=<b onmouseover=alert(3)>"'\'''
HOSTILE_FUNC='<script>alert(4)</script>&"'\'''

test_expect_success 'setup: a receiver, alice with four profiles, bob with one' '
	start_recv &&
	add_user alice && add_user bob &&
	mkprof a1.pb web-a h1 1700000000 env=prod cpu \
		"main;handle=5" "main;other=15" &&
	mkprof a2.pb web-a h1 1700000600 env=prod cpu \
		"main;handle2=7" "main;other=13" &&
	mkprof a3.pb db-b h2 1700001200 "" heap "main;alloc=9" &&
	mkprof a4.pb "$HOSTILE_PROG" "$HOSTILE_HOST" 1700001800 \
		"$HOSTILE_LABEL" cpu "main;$HOSTILE_FUNC=3" "main;calm=1" &&
	mkprof b1.pb bobprog hb 1700000300 "" cpu "main;bobwork=4" &&
	pp-render -f top a4.pb >top &&
	grep -F "$HOSTILE_FUNC" top &&
	push alice a1 && push alice a2 && push alice a3 && push alice a4 &&
	push bob b1
'

test_expect_success 'without a token or with a wrong one: 401 asking for basic auth' '
	web - / &&
	test "$(cat code)" = 401 &&
	grep -i "^WWW-Authenticate: Basic realm=\"pp\"$" headers.txt &&
	curl -s -u "alice:$(cat bob.token | tr 0-9a-f 1-9a-f0)" -o body \
		-w "%{http_code}" "$PP_URL/" >code &&
	test "$(cat code)" = 401 &&
	for p in /v1/merged.svg /v1/profiles/$(stored a1).svg \
		/v1/profiles/$(stored a1).flame.svg; do
		web - "$p" && test "$(cat code)" = 401 || return 1
	done
'

test_expect_success 'the page lists the caller'"'"'s profiles only, newest first' '
	web alice / &&
	test "$(cat code)" = 200 &&
	header Content-Type | grep "^text/html; charset=utf-8$" &&
	printf "%s\n" $(stored a4) $(stored a3) $(stored a2) $(stored a1) >want &&
	rows >got &&
	test_cmp want got &&
	! grep bobprog body &&
	grep "<title>pp: profiles of alice</title>" body &&
	grep ">4 profiles match\." body &&
	grep "<td class=\"n\">2023-11-14 22:13:20</td><td class=\"n\">10 s</td>" body &&
	grep ">env=prod<" body &&
	web bob / &&
	test "$(cat code)" = 200 &&
	rows >got &&
	stored b1 >want &&
	test_cmp want got &&
	! grep -e web-a -e db-b -e alert body &&
	curl -s -H "Authorization: Bearer $(cat alice.token)" "$PP_URL/" >page &&
	grep -c "<tr id=" page >n &&
	test "$(cat n)" = 4
'

test_expect_success 'the page carries strict security headers' '
	web alice / &&
	header Content-Security-Policy >csp &&
	grep "^default-src '"'"'none'"'"'; style-src '"'"'sha256-[A-Za-z0-9+/]*='"'"'; form-action '"'"'self'"'"'; base-uri '"'"'none'"'"'; frame-ancestors '"'"'none'"'"'$" csp &&
	! grep -i "script-src\|unsafe" csp &&
	test "$(header X-Content-Type-Options)" = nosniff &&
	test "$(header Referrer-Policy)" = no-referrer &&
	test "$(header Cache-Control)" = no-store &&
	test "$(header X-Frame-Options)" = DENY &&
	! grep -i "<script" body &&
	hash=$(sed "s/.*sha256-\([^'"'"']*\)'"'"'.*/\1/" csp) &&
	sed -n "s/.*<style>\(.*\)<\/style>.*/\1/p" body | tr -d "\n" |
		perl -MDigest::SHA=sha256_base64 -0777 -ne "print sha256_base64(\$_), \"=\n\"" >want &&
	echo "$hash" >got &&
	test_cmp want got
'

test_expect_success 'filters: program, type, host, time range' '
	web alice "/?program=web-a" && rows >got &&
	printf "%s\n" $(stored a2) $(stored a1) >want && test_cmp want got &&
	web alice "/?type=heap" && rows >got &&
	stored a3 >want && test_cmp want got &&
	web alice "/?host=h1&type=cpu" && rows >got &&
	printf "%s\n" $(stored a2) $(stored a1) >want && test_cmp want got &&
	web alice "/?since=1700000300&until=1700001500" && rows >got &&
	printf "%s\n" $(stored a3) $(stored a2) >want && test_cmp want got &&
	web alice "/?since=2023-11-14T22:23&until=2023-11-14T22:33:20Z" &&
	rows >got && test_cmp want got &&
	web alice "/?since=2023-11-14%2022:23" && rows >got &&
	printf "%s\n" $(stored a4) $(stored a3) $(stored a2) >want &&
	test_cmp want got &&
	web alice "/?since=1h" && test "$(cat code)" = 200 &&
	grep ">No profiles match.<" body && rows >got && test_line_count = 0 got &&
	web alice "/?program=&type=&since=&until=" && rows >got &&
	test_line_count = 4 got &&
	web alice "/?program=bobprog" && rows >got && test_line_count = 0 got
'

test_expect_success 'the form shows the filter; a bad one is a 400 page' '
	web alice "/?program=web-a&since=1d" &&
	grep "<input name=\"program\" value=\"web-a\">" body &&
	grep "<input name=\"since\" value=\"1d\"" body &&
	grep "<form method=\"get\" action=\"/\">" body &&
	for q in since=yesterday until=2023-13-01 since=1x limit=0 \
		limit=1001 limit=abc before=12.zz; do
		web alice "/?$q" &&
		test "$(cat code)" = 400 &&
		header Content-Type | grep "^text/html" &&
		grep "<p class=\"err\">" body &&
		rows >got && test_line_count = 0 got || return 1
	done
'

test_expect_success 'paging: limit rows, then the older ones' '
	web alice "/?limit=3" && rows >page1 &&
	printf "%s\n" $(stored a4) $(stored a3) $(stored a2) >want &&
	test_cmp want page1 &&
	grep "the newest 3 are shown" body &&
	older=$(hrefs | grep "before=") &&
	web alice "$older" && rows >page2 &&
	stored a1 >want && test_cmp want page2 &&
	! hrefs | grep "before=" &&
	hrefs | grep "^/?limit=3$" &&
	web alice "/?limit=1&type=cpu" && rows >got &&
	stored a4 >want && test_cmp want got &&
	web alice "$(hrefs | grep before=)" && rows >got &&
	stored a2 >want && test_cmp want got &&
	web alice "$(hrefs | grep before=)" && rows >got &&
	stored a1 >want && test_cmp want got &&
	! hrefs | grep "before="
'

test_expect_success 'every link of the page resolves, to what it says' '
	web alice / &&
	hrefs | sort -u >links &&
	grep "^/v1/profiles/$(stored a1)\.svg$" links &&
	grep "^/v1/profiles/$(stored a1)\.flame\.svg$" links &&
	grep "^/v1/profiles/$(stored a1)$" links &&
	grep "^/?program=web-a$" links &&
	test_line_count -ge 16 links &&
	while read -r l; do
		web alice "$l" &&
		test "$(cat code)" = 200 &&
		case $l in
		*.svg|*.svg\?*)
			header Content-Type | grep "^image/svg+xml$" &&
			grep "<svg" body ;;
		/v1/profiles/*)
			header Content-Type | grep "^application/octet-stream$" &&
			header Content-Disposition | grep "^attachment; filename=\"[0-9a-f]*\.pb\.gz\"$" &&
			test "$(header X-Content-Type-Options)" = nosniff &&
			for n in a1 a2 a3 a4; do
				test "$l" = /v1/profiles/$(stored $n) || continue
				gunzip -c body | cmp $n.pb - || return 1
			done ;;
		/*)
			header Content-Type | grep "^text/html" &&
			grep "<tr id=" body ;;
		esac || { echo "bad link $l"; return 1; }
	done <links
'

test_expect_success 'a call graph and a flame graph of one profile' '
	id=$(stored a1) &&
	web alice /v1/profiles/$id.svg &&
	test "$(cat code)" = 200 &&
	grep ">handle<" body && grep ">other<" body &&
	header Content-Security-Policy >csp &&
	grep "^default-src '"'"'none'"'"'; .*sandbox$" csp &&
	! grep "script-src" csp &&
	test "$(header X-Content-Type-Options)" = nosniff &&
	test "$(header Cache-Control)" = no-store &&
	test "$(header Content-Disposition)" = "inline; filename=\"$id.svg\"" &&
	web alice /v1/profiles/$id.flame.svg &&
	test "$(cat code)" = 200 &&
	header Content-Type | grep "^image/svg+xml$" &&
	grep "handle" body && grep "other" body && grep "<script" body &&
	header Content-Security-Policy >csp &&
	grep "^default-src '"'"'none'"'"'; script-src '"'"'unsafe-inline'"'"'; .*sandbox allow-scripts$" csp &&
	test "$(header X-Content-Type-Options)" = nosniff &&
	test "$(header Referrer-Policy)" = no-referrer
'

test_expect_success 'merged views: the filter'"'"'s profiles as one' '
	web alice "/?program=web-a" &&
	graph=$(hrefs | grep "^/v1/merged\.svg") &&
	flame=$(hrefs | grep "^/v1/merged\.flame\.svg") &&
	test "$graph" = "/v1/merged.svg?program=web-a&type=cpu" &&
	web alice "$graph" &&
	test "$(cat code)" = 200 &&
	grep ">handle<" body && grep ">handle2<" body &&
	pp-render -f top a1.pb a2.pb >want.top &&
	grep "other$" want.top &&
	web alice "$flame" &&
	test "$(cat code)" = 200 &&
	grep "handle2" body && grep "handle" body &&
	web alice "/v1/merged.svg?program=web-a&type=cpu&since=1700000300" &&
	test "$(cat code)" = 200 &&
	grep ">handle2<" body && ! grep ">handle<" body &&
	web alice / &&
	grep "Choose a type to see them merged" body &&
	! hrefs | grep merged &&
	web alice /v1/merged.svg &&
	test "$(cat code)" = 422 &&
	grep "\"error\":\"cannot merge these profiles: .*choose one type" body &&
	web alice "/v1/merged.svg?program=nothing" &&
	test "$(cat code)" = 404 &&
	web alice "/v1/merged.svg?since=soon" &&
	test "$(cat code)" = 400 &&
	web bob "/v1/merged.svg?program=web-a" &&
	test "$(cat code)" = 404
'

test_expect_success 'another owner'"'"'s id, or no id at all: 404' '
	for n in a1 a4; do
		id=$(stored $n) &&
		for p in /v1/profiles/$id.svg /v1/profiles/$id.flame.svg \
			/v1/profiles/$id; do
			web bob "$p" && test "$(cat code)" = 404 || return 1
		done || return 1
	done &&
	id=$(stored b1) &&
	web bob /v1/profiles/$id.svg && test "$(cat code)" = 200 &&
	web alice /v1/profiles/$id.svg && test "$(cat code)" = 404 &&
	for p in /v1/profiles/.svg /v1/profiles/abc.svg \
		/v1/profiles/${id}0.svg /v1/profiles/${id%?}.svg \
		/v1/profiles/0000000000000000.svg /v1/profiles/zz${id#??}.svg \
		/v1/profiles/$id.dot.svg /v1/profiles/$id.svg.svg \
		/v1/profiles/..%2f..%2f$id.svg /v1/merged.svgx /index.html; do
		web bob "$p" && test "$(cat code)" = 404 || return 1
	done &&
	curl -s -X POST -u "bob:$(cat bob.token)" -o body -w "%{http_code}" \
		"$PP_URL/" >code &&
	test "$(cat code)" = 405
'

# parse_page FILE: fails when FILE, read by python's HTML parser, has an
# element or attribute that runs script, or a link that leaves the site.
parse_page() {
	command -v python3 >/dev/null 2>&1 || return 0
	python3 -c "
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        if tag in (\"script\", \"img\", \"b\", \"iframe\", \"object\"):
            sys.exit(\"element \" + tag)
        for k, v in attrs:
            if k.startswith(\"on\"):
                sys.exit(\"attribute \" + k)
            if k == \"href\" and not v.startswith(\"/\"):
                sys.exit(\"link \" + v)
P().feed(open(sys.argv[1]).read())
" "$1"
}

test_expect_success 'hostile names appear on the page only escaped' '
	web alice / &&
	! grep -e "<script" -e "<img" -e "<b " body &&
	grep -F "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;x" body &&
	grep -F "h&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" body &&
	grep -F "k=&lt;b onmouseover=alert(3)&gt;&quot;&#39;" body &&
	grep -F "href=\"/?program=%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%27%26x\"" body &&
	parse_page body &&
	web alice "/?program=$(printf %s "$HOSTILE_PROG" | od -An -tx1 | tr -d " \n" | sed "s/../%&/g")" &&
	rows >got && stored a4 >want && test_cmp want got &&
	grep -F "<input name=\"program\" value=\"&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;x\">" body &&
	merged=$(hrefs | grep "^/v1/merged\.svg") &&
	test "$merged" = "/v1/merged.svg?program=%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%27%26x&type=cpu"
'

test_expect_success 'a hostile function name appears in the drawings only escaped' '
	id=$(stored a4) &&
	for p in /v1/profiles/$id.svg /v1/profiles/$id.flame.svg \
		"/v1/merged.svg?program=%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%27%26x&type=cpu" \
		"/v1/merged.flame.svg?program=%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%27%26x&type=cpu"; do
		web alice "$p" &&
		test "$(cat code)" = 200 &&
		! grep -F -e "<script>alert" -e "<img" -e "<b " body &&
		grep -F "&lt;script&gt;alert(4)&lt;/script&gt;&amp;" body &&
		if command -v python3 >/dev/null 2>&1; then
			python3 -c "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])" body
		fi || return 1
	done
'

# pp-render run by pp-recv with requests piped in, PP_RENDER naming a
# stand-in for it.

# pipe_get PATH [PP-RECV-ARG...]: GET PATH with the token of $PIPE_USER
# (default alice) through pp-recv on a pipe; the answer into resp, its
# body into body.
pipe_get() {
	printf "GET %s HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n" "$1" \
		"$(cat "${PIPE_USER:-alice}.token")" >req &&
	pp-recv -d "$RECV_STORE" -L pipe.log "${@:2}" <req >resp
	sed '1,/^\r$/d' resp >body
}

test_expect_success 'pp-render gets the profile on its stdin and no descriptor of pp-recv' '
	cat >fds.sh <<-\EOF &&
	#!/bin/sh
	cat >"$TRASH_DIRECTORY/render.in"
	echo "args: $*"
	ls -l /proc/$$/fd
	EOF
	chmod +x fds.sh &&
	PP_RENDER=$TRASH_DIRECTORY/fds.sh pipe_get /v1/profiles/$(stored a1).svg &&
	head -n 1 resp | grep "^HTTP/1.1 200 " &&
	gunzip -c render.in | cmp a1.pb - &&
	grep "^args: -f svg$" body &&
	grep " 0 -> pipe:" body && grep " 1 -> pipe:" body &&
	grep " 2 -> pipe:" body &&
	sed -n "s/.* \([0-9][0-9]*\) -> \(.*\)/\1 \2/p" body >fds &&
	test_line_count -ge 3 fds &&
	while read -r fd what; do
		test "$fd" -le 2 || test "$what" = "$TRASH_DIRECTORY/fds.sh" ||
		{ echo "leaked: $fd -> $what"; return 1; }
	done <fds
'

test_expect_success 'pp-render that fails, is missing, or is too slow: 500, 500, 503' '
	printf "#!/bin/sh\ncat >/dev/null\necho oops >&2\nexit 3\n" >fail.sh &&
	chmod +x fail.sh &&
	PP_RENDER=$TRASH_DIRECTORY/fail.sh pipe_get /v1/profiles/$(stored a1).svg &&
	head -n 1 resp | grep "^HTTP/1.1 500 " &&
	grep "\"error\":\"cannot draw the profile\"" body &&
	grep "pp-render -f svg failed (status 3): oops" pipe.log &&
	PP_RENDER=$TRASH_DIRECTORY/missing pipe_get /v1/profiles/$(stored a1).flame.svg &&
	head -n 1 resp | grep "^HTTP/1.1 500 " &&
	grep "pp-render is not installed" body &&
	grep "cannot run pp-render .*missing" pipe.log &&
	printf "#!/bin/sh\necho \$\$ >\"\$TRASH_DIRECTORY/slow.pid\"\nexec sleep 100\n" >slow.sh &&
	chmod +x slow.sh &&
	PP_RENDER=$TRASH_DIRECTORY/slow.sh pipe_get "/v1/merged.svg?program=web-a&type=cpu" -t 3 &&
	head -n 1 resp | grep "^HTTP/1.1 503 " &&
	grep "drawing took too long" body &&
	grep "did not finish in time: killed" pipe.log &&
	pid=$(cat slow.pid) &&
	! kill -0 "$pid" 2>/dev/null
'

# Labels: carol's profiles of one program, with labels or without.

test_expect_success 'labels: carol with four profiles, labelled differently' '
	add_user carol &&
	mkprof c1.pb web-c h1 1700000000 "env=prod|zone=a" cpu "main;prod_a=5" &&
	mkprof c2.pb web-c h1 1700000600 "env=staging|zone=a" cpu \
		"main;staging_a=7" &&
	mkprof c3.pb web-c h2 1700001200 "env=prod|zone=b" cpu \
		"main;prod_b=3" "main;shared=2" &&
	mkprof c4.pb web-c h2 1700001800 "" cpu "main;nolabel=4" &&
	push carol c1 && push carol c2 && push carol c3 && push carol c4 &&
	pp-query -d "$RECV_STORE" -u carol -l >list &&
	grep " env=prod,zone=a$" list && grep " env=staging,zone=a$" list
'

test_expect_success 'the label filter shows only the profiles with every label' '
	web carol "/?label=env=prod" && test "$(cat code)" = 200 && rows >got &&
	printf "%s\n" $(stored c3) $(stored c1) >want && test_cmp want got &&
	grep ">2 profiles match\." body &&
	grep "<input name=\"label\" value=\"env=prod\"" body &&
	web carol "/?label=env%3Dprod" && rows >got && test_cmp want got &&
	web carol "/?label=env=prod,zone=b" && rows >got &&
	stored c3 >want && test_cmp want got &&
	web carol "/?label=zone=a&host=h1" && rows >got &&
	printf "%s\n" $(stored c2) $(stored c1) >want && test_cmp want got &&
	web carol "/?label=zone=a,,env=staging," && rows >got &&
	stored c2 >want && test_cmp want got &&
	web carol "/?label=env=nope" && test "$(cat code)" = 200 &&
	grep ">No profiles match.<" body &&
	web carol "/?label=" && rows >got && test_line_count = 4 got &&
	web carol "/?label=env" && rows >got && test_line_count = 0 got &&
	web alice "/?label=env=prod" && rows >got &&
	printf "%s\n" $(stored a2) $(stored a1) >want && test_cmp want got
'

test_expect_success 'a label that is not key=value is a 400 page' '
	for q in label=env label==prod "label=env=prod,zone" label=%2C%3Dx; do
		web carol "/?$q" &&
		test "$(cat code)" = 400 &&
		grep "<p class=\"err\">.*label.* is key=value" body &&
		rows >got && test_line_count = 0 got || return 1
	done &&
	web carol "/v1/merged.svg?label=env" &&
	test "$(cat code)" = 400 &&
	curl -s -H "Authorization: Bearer $(cat carol.token)" -o body \
		-w "%{http_code}" "$PP_URL/v1/profiles?label=env" >code &&
	test "$(cat code)" = 400 &&
	grep "\"error\":\"label is key=value" body
'

test_expect_success 'paging and merged links carry the label filter' '
	web carol "/?label=env=prod&limit=1" && rows >got &&
	stored c3 >want && test_cmp want got &&
	older=$(hrefs | grep "before=") &&
	case $older in */\?label=env%3Dprod\&limit=1\&before=*) ;; *) false ;; esac &&
	web carol "$older" && rows >got &&
	stored c1 >want && test_cmp want got &&
	! hrefs | grep "before=" &&
	hrefs | grep "^/?label=env%3Dprod&limit=1$" &&
	web carol "/?label=env=prod" &&
	graph=$(hrefs | grep "^/v1/merged\.svg") &&
	test "$graph" = "/v1/merged.svg?type=cpu&label=env%3Dprod" &&
	flame=$(hrefs | grep "^/v1/merged\.flame\.svg") &&
	test "$flame" = "/v1/merged.flame.svg?type=cpu&label=env%3Dprod" &&
	web carol "$graph" && test "$(cat code)" = 200 &&
	grep ">prod_a<" body && grep ">prod_b<" body &&
	! grep -e staging_a -e nolabel body &&
	web carol "$flame" && test "$(cat code)" = 200 &&
	grep prod_a body && ! grep -e staging_a -e nolabel body
'

test_expect_success 'the merged view merges what pp-query -L merges' '
	cat >keep.sh <<-\EOF &&
	#!/bin/sh
	cat >"$TRASH_DIRECTORY/drawn.pb"
	echo "<svg/>"
	EOF
	chmod +x keep.sh &&
	for l in env=prod zone=a env=prod,zone=b; do
		PIPE_USER=carol PP_RENDER=$TRASH_DIRECTORY/keep.sh \
			pipe_get "/v1/merged.svg?type=cpu&label=$l" &&
		head -n 1 resp | grep "^HTTP/1.1 200 " &&
		pp-render -f top drawn.pb >got.top &&
		set -- $(echo "$l" | sed "s/^/-L /; s/,/ -L /g") &&
		pp-query -d "$RECV_STORE" -u carol -t cpu "$@" >want.pb &&
		pp-render -f top want.pb >want.top &&
		test_cmp want.top got.top || return 1
	done &&
	grep " prod_b$" got.top && grep " shared$" got.top &&
	! grep -e prod_a -e staging_a -e nolabel got.top
'

test_expect_success 'a hostile label in the query string appears only escaped' '
	enc=$(printf %s "$HOSTILE_LABEL" | od -An -tx1 | tr -d " \n" | sed "s/../%&/g") &&
	web alice "/?label=$enc" && test "$(cat code)" = 200 &&
	rows >got && stored a4 >want && test_cmp want got &&
	! grep -e "<b " -e "<script" body &&
	grep -F "<input name=\"label\" value=\"k=&lt;b onmouseover=alert(3)&gt;&quot;&#39;\"" body &&
	parse_page body &&
	hrefs | grep "^/v1/merged\.svg" >merged &&
	test "$(cat merged)" = "/v1/merged.svg?type=cpu&label=k%3D%3Cb%20onmouseover%3Dalert%283%29%3E%22%27" &&
	web alice "$(cat merged)" && test "$(cat code)" = 200 &&
	grep -F "&lt;script&gt;alert(4)" body &&
	web alice "/?label=x%3D%22%3E%3Cscript%3Ealert(5)%3C%2Fscript%3E%3Cb%20onclick%3D" &&
	test "$(cat code)" = 200 && grep ">No profiles match.<" body &&
	! grep -e "<b " -e "<script" body &&
	grep -F "value=\"x=&quot;&gt;&lt;script&gt;alert(5)&lt;/script&gt;&lt;b onclick=\"" body &&
	parse_page body &&
	web alice "/?label=%3Cscript%3E" && test "$(cat code)" = 400 &&
	! grep "<script" body && grep -F "value=\"&lt;script&gt;\"" body &&
	parse_page body
'

# The count: more profiles than a page counts (PP_WEB_MAX_COUNT, 10000),
# written by t/helper/pp-store-fill into the receiver's store as u0's, two
# programs, cpu and heap, spread over the last day.

# newest N [SKIP] <JSON: the ids of the N newest profiles of pp-query -l -o
# json, after the SKIP newest, newest first.
newest() {
	perl -MJSON::PP -e '
		my $l = decode_json(join("", <STDIN>));
		my @s = sort { $b->{start_ns} <=> $a->{start_ns} ||
		    $b->{id} cmp $a->{id} } @$l;
		my ($n, $skip) = @ARGV;
		print "$_->{id}\n" for grep { defined } @s[$skip .. $skip + $n - 1];
	' "$1" "${2:-0}"
}

test_expect_success 'count: u0 with 10050 profiles' '
	add_user u0 &&
	pp-store-fill "$RECV_STORE" 1 2 10050 1 &&
	pp-query -d "$RECV_STORE" -u u0 -l -o json >u0.json &&
	perl -MJSON::PP -e "print scalar(@{decode_json(join(q(), <STDIN>))}), qq(\n)" \
		<u0.json >n && test "$(cat n)" = 10050
'

test_expect_success 'count: more than 10000 profiles is "more than", the rows still the newest' '
	web u0 / && test "$(cat code)" = 200 &&
	grep "<p id=\"count\">More than 10000 profiles match; the newest 100 are shown\." body &&
	rows >got && newest 100 <u0.json >want && test_cmp want got &&
	grep "Choose a type to see them merged" body &&
	! hrefs | grep merged &&
	web u0 "$(hrefs | grep before=)" && rows >got &&
	newest 100 100 <u0.json >want && test_cmp want got &&
	grep "More than 10000 profiles match; 100 older ones are shown\." body &&
	web u0 "/?limit=1000" && rows >got &&
	newest 1000 <u0.json >want && test_cmp want got &&
	grep " u0 GET / 200 page of 100 of more than 10000 profiles" recv.log
'

test_expect_success 'count: windows far from the profiles find the same rows' '
	until=$(($(date +%s) + 10 * 86400)) &&
	web u0 "/?until=$until" && rows >got &&
	newest 100 <u0.json >want && test_cmp want got &&
	grep "More than 10000 profiles match" body &&
	perl -MJSON::PP -e "
		my @s = sort { \$a->{start_ns} <=> \$b->{start_ns} ||
		    \$a->{id} cmp \$b->{id} } @{decode_json(join(q(), <STDIN>))};
		print \"\$s[40]{start_ns}.\$s[40]{id}\n\"" <u0.json >cursor &&
	web u0 "/?before=$(cat cursor)" && rows >got &&
	newest 40 10010 <u0.json >want && test_cmp want got &&
	test_line_count = 40 got &&
	! hrefs | grep before= &&
	grep "More than 10000 profiles match; 40 older ones are shown\." body
'

test_expect_success 'count: 10000 or fewer are counted exactly' '
	perl -MJSON::PP -e "print scalar(grep { \$_->{type} eq q(cpu) } @{decode_json(join(q(), <STDIN>))}), qq(\n)" \
		<u0.json >ncpu &&
	test "$(cat ncpu)" -lt 10000 &&
	web u0 "/?type=cpu" &&
	grep "<p id=\"count\">$(cat ncpu) profiles match; the newest 100 are shown\." body &&
	grep "Narrow the selection to at most 1000" body &&
	! hrefs | grep merged &&
	web u0 "/?program=prog1&type=heap&limit=3" &&
	grep "<p id=\"count\">[0-9]* profiles match; the newest 3 are shown\." body
'

test_expect_success 'the receiver logged the pages and no token' '
	grep " alice GET / 200 page of 4 of 4 profiles" recv.log &&
	grep " alice GET /v1/profiles/[0-9a-f]*\.flame\.svg 200 drew " recv.log &&
	! grep -F "$(cat alice.token)" recv.log pipe.log &&
	! grep -F "$(cat bob.token)" recv.log pipe.log
'

# The browser.

# jget KEY...: the value at KEY... of the JSON on stdin (perl's core
# JSON::PP: no jq needed).
jget() {
	perl -MJSON::PP -e '
		my $v = decode_json(join("", <STDIN>));
		$v = ref($v) eq "HASH" ? $v->{$_} : $v->[$_] for @ARGV;
		print JSON::PP::is_bool($v) ? ($v ? 1 : 0) :
		    ref($v) ? encode_json($v) : defined($v) ? $v : "null";
		print "\n";
	' "$@"
}

# wd METHOD PATH [JSON]: a WebDriver command; the answer's "value" on
# stdout; fails on an HTTP error, showing the answer.
wd() {
	local code
	code=$(curl -s --max-time 120 -X "$1" -H "Content-Type: application/json" \
		${3:+--data-binary "$3"} -o wd.out -w '%{http_code}' \
		"$WD_URL$2") || { echo "wd: $1 $2: curl failed" >&2; return 1; }
	if [ "$code" != 200 ]; then
		echo "wd: $1 $2: HTTP $code: $(head -c 2000 wd.out)" >&2
		return 1
	fi
	jget value <wd.out
}

# wd_script JS [ARG-JSON]: runs JS in the page; its value on stdout.
wd_script() {
	wd POST "/session/$SID/execute/sync" \
		"{\"script\":$(printf %s "$1" | perl -MJSON::PP -0777 -ne 'print JSON::PP->new->allow_nonref->encode($_)'),\"args\":[${2:-}]}"
}

ELEMENT=element-6066-11e4-a52e-4f735466cecf

# wd_find CSS|XPATH: the id of the first element found.
wd_find() {
	local using=${2:-css selector}
	wd POST "/session/$SID/element" \
		"{\"using\":\"$using\",\"value\":$(printf %s "$1" | perl -MJSON::PP -0777 -ne 'print JSON::PP->new->allow_nonref->encode($_)')}" |
	jget "$ELEMENT"
}

have_chromium() {
	test -x /usr/bin/chromium && test -x /usr/bin/chromedriver
}

# Chromium comes from contrib/deps.sh, as every other package does (the
# build runs it on a machine that lacks any package). A test does not
# install anything itself: sudo could stop the suite at a password prompt.
CHROMIUM_WHY=
have_chromium ||
	CHROMIUM_WHY="no /usr/bin/chromium and /usr/bin/chromedriver: run contrib/deps.sh"

test_chromium() {
	if [ -n "$CHROMIUM_WHY" ]; then
		test_skip "$1" "$CHROMIUM_WHY"
	else
		test_expect_success "$@"
	fi
}

# However the script ends, the browser goes: its session is deleted (which
# ends chromium) before lib-service.sh stops chromedriver and the receiver.
SID= WD_URL=
_web_exit() {
	local code=$?
	if [ -n "$SID" ]; then
		curl -s --max-time 30 -X DELETE "$WD_URL/session/$SID" >/dev/null 2>&1
	fi
	(exit "$code")
	_pp_service_exit
}
trap _web_exit EXIT

test_chromium 'chromium: chromedriver starts, with a headless session' '
	for try in 1 2 3 4 5 6 7 8 9 10; do
		WD_PORT=$((20000 + RANDOM % 30000))
		_pp_port_free $WD_PORT && break
	done
	WD_URL=http://127.0.0.1:$WD_PORT
	mkdir -p chrome || return 1
	chromedriver --port=$WD_PORT --log-path="$TRASH_DIRECTORY/chromedriver.log" \
		</dev/null >/dev/null 2>&1 &
	WD_PID=$!
	_pp_services="$_pp_services $WD_PID"
	i=0
	until curl -s --max-time 5 "$WD_URL/status" | jget value ready | grep -q 1; do
		kill -0 $WD_PID && test $i -lt 300 || return 1
		sleep 0.1
		i=$((i + 1))
	done &&
	wd POST /session "{\"capabilities\":{\"alwaysMatch\":{
		\"browserName\":\"chrome\",
		\"goog:chromeOptions\":{\"binary\":\"/usr/bin/chromium\",\"args\":[
		\"--headless=new\",\"--no-sandbox\",\"--disable-gpu\",
		\"--disable-dev-shm-usage\",\"--no-first-run\",
		\"--user-data-dir=$TRASH_DIRECTORY/chrome\",
		\"--window-size=1280,900\"]}}}}" >session &&
	SID=$(jget sessionId <session) &&
	test -n "$SID" && test "$SID" != null
'

test_chromium 'chromium: alice logs in with her token and sees her page, styled' '
	host=${PP_URL#http://} &&
	wd POST /session/$SID/url \
		"{\"url\":\"http://alice:$(cat alice.token)@$host/\"}" &&
	wd GET /session/$SID/title >title &&
	echo "pp: profiles of alice" >want && test_cmp want title &&
	wd_script "return document.querySelectorAll(\"tbody tr\").length" >n &&
	test "$(cat n)" = 4 &&
	wd_script "return getComputedStyle(document.querySelector(\"th\")).backgroundColor" >bg &&
	echo "rgb(243, 243, 243)" >want && test_cmp want bg &&
	wd_script "return document.querySelectorAll(\"script, img\").length" >n &&
	test "$(cat n)" = 0
'

test_chromium 'chromium: opens a flame graph, clicks a frame, and it zooms' '
	link=$(wd_find "tr#p$(stored a1) a.flame") &&
	test -n "$link" && test "$link" != null &&
	wd POST /session/$SID/element/$link/click "{}" &&
	wd GET /session/$SID/url >url &&
	grep "/v1/profiles/$(stored a1)\.flame\.svg$" url &&
	wd_script "return document.contentType" >ct &&
	echo image/svg+xml >want && test_cmp want ct &&
	frame() {
		wd_find "//*[local-name()=\"g\"][*[local-name()=\"title\" and starts-with(., \"$1\")]]/*[local-name()=\"rect\"]" xpath
	} &&
	handle=$(frame handle) && other=$(frame other) &&
	test -n "$handle" && test "$handle" != null &&
	width="return arguments[0].getBoundingClientRect().width" &&
	wd_script "$width" "{\"$ELEMENT\":\"$handle\"}" >before &&
	wd GET /session/$SID/element/$other/displayed >shown &&
	test "$(cat shown)" = 1 &&
	wd POST /session/$SID/element/$handle/click "{}" &&
	wd_script "$width" "{\"$ELEMENT\":\"$handle\"}" >after &&
	echo "handle: $(cat before) -> $(cat after)" &&
	perl -e "exit !(\$ARGV[1] > 3 * \$ARGV[0])" "$(cat before)" "$(cat after)" &&
	wd GET /session/$SID/element/$other/displayed >shown &&
	test "$(cat shown)" = 0
'

test_chromium 'chromium: a screenshot of the zoomed flame graph is a PNG' '
	wd GET /session/$SID/screenshot >shot.b64 &&
	perl -MMIME::Base64 -0777 -ne "print decode_base64(\$_)" <shot.b64 >shot.png &&
	test "$(head -c 8 shot.png | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a &&
	test $(wc -c <shot.png) -gt 2000 &&
	{ test -z "${PP_WEB_SCREENSHOT:-}" || cp shot.png "$PP_WEB_SCREENSHOT"; }
'

test_chromium 'chromium: the session ends, and chromedriver' '
	wd DELETE /session/$SID >/dev/null &&
	SID= &&
	stop_service $WD_PID
'

test_done
