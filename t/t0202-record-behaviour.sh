#!/bin/bash
# pp-record as the program's parent: exit status, standard input and
# output, signals, periodic profiles, metadata, options and usage.
. "$(dirname "$0")/lib.sh"

command -v cc >/dev/null 2>&1 || skip_all 'no C compiler'

P=$SRC_ROOT/t/progs
PP_SPOOL=$TRASH_DIRECTORY/spool
export PP_SPOOL
# no core files from the programs that kill themselves
ulimit -c 0

# has_comment FILE TEXT: the profile FILE has the comment TEXT.
if command -v go >/dev/null 2>&1; then
	has_comment() {
		go tool pprof -raw "$1" >raw.tmp &&
		grep -xF "Comment: $2" raw.tmp
	}
else
	# Only a substring: the string table has no separators.
	has_comment() { gzip -dc "$1" | grep -aqF "$2"; }
fi

# wait_for FILE TEXT PID: until FILE has a line TEXT, while PID runs
# (up to 20 s).
wait_for() {
	local i=0
	while [ $i -lt 200 ]; do
		grep -qx "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	grep -qx "$2" "$1" 2>/dev/null && return 0
	echo "wait_for: no '$2' in $1" >&2
	return 1
}

# seconds "Duration: 1.08s, ...": the duration in seconds.
seconds() {
	sed -n 's/^Duration: \([0-9.]*\)\([a-z]*\),.*/\1 \2/p' |
	awk '{ print $2 == "ms" ? $1 / 1000 : $2 == "s" ? $1 : -1 }'
}

test_expect_success 'build the test programs' '
	cc -O2 -g -o exiter "$P/exiter.c" &&
	cc -O2 -g -o sigcatch "$P/sigcatch.c" &&
	cc -O2 -g -o sigcount "$P/sigcount.c" &&
	cc -O2 -g -o chain "$P/chain.c"
'

test_expect_success 'the exit status is the program'\''s' '
	test_expect_code 3 pp-record -o st -- ./exiter "exit 3" &&
	test_expect_code 0 pp-record -o st -- ./exiter "exit 0" &&
	test_expect_code 200 pp-record -o st -- ./exiter "exit 200"
'

for s in SEGV:139 KILL:137; do
	name=${s%:*} code=${s#*:}
	test_expect_success "killed by SIG$name: $code, and its profile" '
		test_expect_code '$code' pp-record --cpu -o '$name' -- \
			./exiter '$name' 0.5 >out &&
		pid=$(sed -n "s/^exiter pid //p" out) &&
		p='$name'/exiter.$pid.cpu.pb.gz &&
		pp-render -f folded "$p" >folded &&
		grep ";main;burn_before_exit" folded
	'
done

test_expect_success 'a program that does not exist: 127 and one line' '
	test_expect_code 127 pp-record -o none -- ./no-such-program 2>err &&
	echo "pp-record: cannot run '\''./no-such-program'\'': No such file or directory" >expect &&
	test_cmp expect err &&
	test_expect_code 127 pp-record -o none -- no-such-command-pp 2>err &&
	echo "pp-record: cannot run '\''no-such-command-pp'\'': No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success 'a file that is not executable: 126' '
	echo "echo ran" >script &&
	chmod 644 script &&
	test_expect_code 126 pp-record -o none -- ./script >out 2>err &&
	test_line_count = 1 err && grep "^pp-record: cannot run '\''./script'\'': " err &&
	test_line_count = 0 out
'

test_expect_success 'standard input and output pass through' '
	printf "abc\\n" | pp-record -o io -- cat >out &&
	printf "abc\\n" >expect && test_cmp expect out &&
	head -c 3000000 /dev/urandom >big &&
	pp-record -o io -- cat <big >out &&
	cmp big out
'

test_expect_success 'standard error passes through' '
	pp-record -o io -- sh -c "echo to-err >&2; echo to-out" >out 2>err &&
	echo to-out >expect && test_cmp expect out &&
	echo to-err >expect && test_cmp expect err
'

# A signal sent to pp-record reaches the program, whose handler prints it
# and exits with 40 + its number.
# Each test removes the out of the one before: the background job empties
# it only once it runs, and until then wait_for would find the old "ready"
# and the signal would go too early (to the job's shell, which ignores INT
# and QUIT, or to pp-record before the program has its handlers).
for s in TERM:15 INT:2 HUP:1 QUIT:3; do
	name=${s%:*} num=${s#*:}
	test_expect_success "SIG$name sent to pp-record reaches the program" '
		# Not "rm ... &&": that would put rm and pp-record both in
		# the background job, and $! would be its shell.
		rm -f out err
		# A background job starts with INT and QUIT ignored, which
		# pp-record would keep for the program: undo that first.
		env --default-signal=INT,QUIT pp-record -o sig -- ./sigcatch >out 2>err &
		pid=$! &&
		{ wait_for out ready $pid || { kill $pid; wait $pid; false; }; } &&
		kill -'$name' $pid &&
		{ wait $pid; code=$?; } &&
		echo "status $code" &&
		test $code = $((40 + '$num')) &&
		tail -n 1 out >last &&
		echo "got '$name'" >expect && test_cmp expect last &&
		test_line_count = 0 err
	'
done

for s in TERM:15 HUP:1; do
	name=${s%:*} num=${s#*:}
	test_expect_success "SIG$name kills a program that does not handle it" '
		rm -f out
		pp-record -o sig -- ./sigcatch -d >out &
		pid=$! &&
		{ wait_for out ready $pid || { kill $pid; wait $pid; false; }; } &&
		kill -'$name' $pid &&
		{ wait $pid; code=$?; } &&
		echo "status $code" &&
		test $code = $((128 + '$num'))
	'
done

# What the program finds ignored (nohup, a background job of a shell) it
# must find ignored under pp-record too, as exec(2) keeps it.
# ^C at a terminal goes to its whole foreground process group, the program
# included: pp-record must not pass it on a second time (it passes on only
# what a process sent to it, si_code <= 0). script(1) gives the run a
# terminal; the ^C is typed once the program is ready.
if command -v script >/dev/null 2>&1; then
	test_expect_success '^C at a terminal reaches the program once' '
		# script(1) ends the run when its input ends: keep it open
		# until the command under it has finished and said so in
		# tty.rc (at most 60 s for each step). The ^C reaches the
		# shell under script too: a non-interactive dash dies of it
		# (bash waits for its child), so the shell traps it; a
		# caught signal is default again in pp-record after exec.
		rm -f tty.out tty.rc &&
		{
			i=0
			while ! grep -qx ready tty.out 2>/dev/null &&
			    [ $i -lt 600 ]; do
				sleep 0.1; i=$((i + 1))
			done
			printf "\003"
			i=0
			while ! [ -s tty.rc ] && [ $i -lt 600 ]; do
				sleep 0.1; i=$((i + 1))
			done
		} | SHELL=/bin/sh script -qc "trap : INT; \
			pp-record -o sig -- ./sigcount >tty.out; \
			echo \$? >tty.rc" /dev/null >tty.log 2>&1
		echo "script: $?" &&
		cat tty.out tty.rc &&
		echo 0 >expect && test_cmp expect tty.rc &&
		grep -x "SIGINT 1" tty.out
	'
else
	test_skip '^C at a terminal reaches the program once' 'no script(1)'
fi

test_expect_success 'signals ignored by the caller stay ignored (nohup)' '
	(trap "" HUP INT QUIT && ./sigcatch -n) >expect &&
	(trap "" HUP INT QUIT && pp-record -o sig -- ./sigcatch -n) >out &&
	test_cmp expect out &&
	nohup pp-record -o sig -- ./sigcatch -n >out 2>/dev/null &&
	grep -x HUP=ignored out
'

test_expect_success '-i 1: a CPU profile a second in the spool' '
	pp-record -i 1 -- ./chain 3.5 >out &&
	ls spool/tmp >tmpfiles && test_line_count = 0 tmpfiles &&
	ls spool/new | grep "\\.cpu\\.[0-9]*\\.pb\\.gz\$" >cpu &&
	cat cpu &&
	test_line_count -ge 3 cpu &&
	n=0 && total=$(wc -l <cpu) &&
	while read -r f; do
		n=$((n + 1))
		pp-render -f top spool/new/$f >top || return 1
		# the last covers what was left of the run
		test "$n" = "$total" && continue
		d=$(seconds <top) && echo "$f: $d s" &&
		awk -v d="$d" "BEGIN { exit !(d >= 0.5 && d <= 2) }" || return 1
	done <cpu
'

test_expect_success '-i 1 -o: the profile is there while the program runs' '
	pp-record -i 1 --cpu -o live -- ./chain 3.5 >out &
	pid=$! &&
	i=0 && while [ $i -lt 200 ]; do
		f=$(ls live/chain.*.cpu.pb.gz 2>/dev/null) && test -n "$f" &&
		cp "$f" early.pb.gz && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done &&
	kill -0 $pid &&
	{ wait $pid; code=$?; } && test $code = 0 &&
	pp-render -f folded -i samples early.pb.gz >early &&
	pp-render -f folded -i samples live/chain.*.cpu.pb.gz >final &&
	early=$(awk "{ s += \$NF } END { print s + 0 }" early) &&
	final=$(awk "{ s += \$NF } END { print s + 0 }" final) &&
	echo "$early samples while it ran, $final at the end" &&
	test "$early" -gt 0 && test "$final" -gt "$early"
'

test_expect_success 'metadata: program, host, pid, type and labels' '
	rm -rf spool &&
	pp-record -m 1 -l env=test -l team=x -- ./chain 0.3 >out &&
	ls spool/new >files && cat files &&
	test_line_count = 2 files &&
	host=$(uname -n) &&
	while read -r f; do
		pid=$(echo "$f" | awk -F. "{ print \$(NF - 4) }") &&
		type=$(echo "$f" | awk -F. "{ print \$(NF - 3) }") &&
		has_comment spool/new/$f "#pp program=chain" &&
		has_comment spool/new/$f "#pp host=$host" &&
		has_comment spool/new/$f "#pp pid=$pid" &&
		has_comment spool/new/$f "#pp type=$type" &&
		has_comment spool/new/$f "#pp label=env=test" &&
		has_comment spool/new/$f "#pp label=team=x" || return 1
	done <files &&
	grep "\\.cpu\\." files && grep "\\.heap\\." files
'

test_expect_success 'both profiles by default, --cpu and --heap alone' '
	pp-record -m 1 -o both -- ./chain 0.3 >out &&
	ls both | sed "s/\\.[0-9]*\\./.PID./" >files &&
	printf "chain.PID.cpu.pb.gz\\nchain.PID.heap.pb.gz\\n" >expect &&
	test_cmp expect files &&
	pp-record -m 1 --cpu -o only-cpu -- ./chain 0.3 >out &&
	ls only-cpu | sed "s/\\.[0-9]*\\./.PID./" >files &&
	echo chain.PID.cpu.pb.gz >expect && test_cmp expect files &&
	pp-record -m 1 --heap -o only-heap -- ./chain 0.3 >out &&
	ls only-heap | sed "s/\\.[0-9]*\\./.PID./" >files &&
	echo chain.PID.heap.pb.gz >expect && test_cmp expect files
'

test_expect_success 'the sample types are Go'\''s' '
	for t in samples cpu; do
		pp-render -f top -i $t only-cpu/chain.*.cpu.pb.gz >/dev/null &&
		test_must_fail pp-render -f top -i $t only-heap/chain.*.heap.pb.gz ||
		return 1
	done &&
	for t in alloc_objects alloc_space inuse_objects inuse_space; do
		pp-render -f top -i $t only-heap/chain.*.heap.pb.gz >/dev/null &&
		test_must_fail pp-render -f top -i $t only-cpu/chain.*.cpu.pb.gz ||
		return 1
	done &&
	pp-render -f top only-heap/chain.*.heap.pb.gz >top &&
	grep -x "Type: inuse_space" top
'

test_expect_success 'without the agent the program still runs' '
	PP_AGENT_LIB=/nonexistent test_expect_code 5 \
		pp-record -o noagent -- ./exiter "exit 5" 0.1 >out 2>err &&
	grep "^exiter pid [0-9]*\$" out && test_line_count = 1 out &&
	grep "^pp-record: .*running '\''./exiter'\'' without profiling\$" err &&
	ls noagent >files && test_line_count = 0 files
'

if cc -static -o exiter-static "$P/exiter.c" 2>/dev/null; then
	test_expect_success 'a static program runs, and pp-record says so' '
		test_expect_code 4 pp-record -o static -- \
			./exiter-static "exit 4" 0.1 >out 2>err &&
		grep "^exiter pid" out &&
		grep "^pp-record: no profile of '\''./exiter-static'\''" err
	'
else
	test_skip 'a static program runs, and pp-record says so' 'no static libc'
fi

test_expect_success 'bad usage: status 2, and the program does not run' '
	test_expect_code 2 pp-record 2>err &&
	grep "^usage: pp-record " err &&
	test_expect_code 2 pp-record -o bad 2>err &&
	grep "^usage: pp-record " err &&
	test_expect_code 2 pp-record -Q -- touch ran 2>err &&
	grep "^usage: pp-record " err &&
	test_expect_code 2 pp-record -F 0 -- touch ran 2>err &&
	grep "^pp-record: -F " err &&
	test_expect_code 2 pp-record -F x -- touch ran &&
	test_expect_code 2 pp-record -i 0 -- touch ran &&
	test_expect_code 2 pp-record -l novalue -- touch ran &&
	test_expect_code 2 pp-record -o 2>err &&
	! test -e ran
'

if [ "$(id -u)" != 0 ]; then
	test_expect_success 'the spool is under XDG_STATE_HOME, else ~/.local' '
		mkdir home xdg &&
		(unset PP_SPOOL; HOME=$PWD/home XDG_STATE_HOME=$PWD/xdg \
			pp-record -- ./chain 0.2 >out) &&
		ls xdg/pp/spool/new | grep "\\.cpu\\." &&
		(unset PP_SPOOL XDG_STATE_HOME; HOME=$PWD/home \
			pp-record -- ./chain 0.2 >out) &&
		ls home/.local/state/pp/spool/new | grep "\\.cpu\\."
	'
else
	test_skip 'the spool is under XDG_STATE_HOME, else ~/.local' \
		'root spools into /var/spool/pp'
fi

test_done
